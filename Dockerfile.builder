# The zkelf builder image: a pinned Rust and RISC-V C toolchain on a pinned Debian base.
#
# clang and libclang-dev are there for build scripts that run bindgen on the host side of a
# guest build (ZisK's `zisk-zkvm-interface`); guests are still compiled by rustc and linked by
# ld.lld. git and curl are the fetch container's: Debian's cargo cannot fetch git sources (its
# libgit2 is not the one it was built against), so zkelf fetches crates.io archives with curl
# and git commits with git, and cargo builds offline from the directories zkelf makes of them.
#
# BASE_IMAGE is passed by `zkelf builder image` as an image id (sha256:…), never a mutable tag;
# `zkelf builder base` bootstraps it with debootstrap where no registry can serve one.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

ARG DEBIAN_MIRROR=http://deb.debian.org/debian
ARG SECURITY_MIRROR=http://deb.debian.org/debian-security

# Exact versions: a different toolchain is a different builder, and so a different image tag.
RUN set -eux; \
    printf 'deb %s bookworm main\ndeb %s bookworm-security main\n' "$DEBIAN_MIRROR" "$SECURITY_MIRROR" \
        > /etc/apt/sources.list; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        rustc-web=1.96.0+dfsg1-1~deb12u2 \
        cargo-web=1.96.0+dfsg1-1~deb12u2 \
        rust-web-src=1.96.0+dfsg1-1~deb12u2 \
        lld=1:14.0-55.7~deb12u1 \
        gcc-riscv64-unknown-elf=12.2.0-14+deb12u1+11+b2 \
        picolibc-riscv64-unknown-elf=1.8-1 \
        clang=1:14.0-55.7~deb12u1 \
        libclang-dev=1:14.0-55.7~deb12u1 \
        make=4.3-4.1 \
        git=1:2.39.5-0+deb12u3 \
        curl=7.88.1-10+deb12u15; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /var/log/alternatives.log

ENV LC_ALL=C.UTF-8 TZ=UTC CARGO_HOME=/build/cargo-home
WORKDIR /build
