//! Tiny RISC-V ELF executables that `qemu-riscv32` / `qemu-riscv64` run.
//!
//! Hand-assembled: an ELF header, one `PT_LOAD` program header mapping the whole image, and a few
//! instructions using the Linux syscall ABI: `write(1, message)` (a7 = 64) then `exit(code)`
//! (a7 = 93). Optional padding after the image makes large files (benchmarks) and is streamed to
//! disk, never held in memory.
//!
//! ```no_run
//! use zkelf_testsupport::elf::{Class, ElfSpec};
//! let path = std::path::Path::new("/tmp/hello.elf");
//! ElfSpec::new(Class::Elf32).message("hello\n").exit_code(3).write_to(path).unwrap();
//! // `qemu-riscv32 /tmp/hello.elf` prints `hello` and exits with 3.
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// `e_machine` of RISC-V.
pub const EM_RISCV: u16 = 243;
/// `e_machine` of x86-64 (for negative tests: a valid ELF that is not RISC-V).
pub const EM_X86_64: u16 = 62;

/// Where the image is mapped.
const BASE: u64 = 0x1_0000;

/// ELF class: 32-bit (`riscv32*` targets) or 64-bit (`riscv64*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// ELFCLASS32.
    Elf32,
    /// ELFCLASS64.
    Elf64,
}

impl Class {
    /// The qemu user-mode emulator that runs this class of RISC-V ELF.
    pub fn qemu(self) -> &'static str {
        match self {
            Class::Elf32 => "qemu-riscv32",
            Class::Elf64 => "qemu-riscv64",
        }
    }

    /// The target triple zkelf infers for this class.
    pub fn default_target(self) -> &'static str {
        match self {
            Class::Elf32 => "riscv32im-unknown-none-elf",
            Class::Elf64 => "riscv64im-unknown-none-elf",
        }
    }

    fn ehsize(self) -> u16 {
        match self {
            Class::Elf32 => 52,
            Class::Elf64 => 64,
        }
    }

    fn phentsize(self) -> u16 {
        match self {
            Class::Elf32 => 32,
            Class::Elf64 => 56,
        }
    }
}

/// What to generate. Build with [`ElfSpec::new`] and the setters, then [`ElfSpec::write_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfSpec {
    /// 32- or 64-bit.
    pub class: Class,
    /// Bytes written to stdout by the program.
    pub message: Vec<u8>,
    /// The program's exit code.
    pub exit_code: u8,
    /// Bytes of deterministic pseudo-random padding appended after the loaded image.
    pub padding: u64,
    /// Seed of the padding bytes (different seeds give different files of the same size).
    pub seed: u64,
    /// `e_machine`; [`EM_RISCV`] unless a test wants a non-RISC-V ELF.
    pub machine: u16,
}

impl ElfSpec {
    /// A program of `class` that prints `hello from zkelf\n` and exits 0.
    pub fn new(class: Class) -> Self {
        Self {
            class,
            message: b"hello from zkelf\n".to_vec(),
            exit_code: 0,
            padding: 0,
            seed: 0x5eed,
            machine: EM_RISCV,
        }
    }

    /// Sets the message written to stdout.
    pub fn message(mut self, message: impl AsRef<[u8]>) -> Self {
        self.message = message.as_ref().to_vec();
        self
    }

    /// Sets the exit code.
    pub fn exit_code(mut self, code: u8) -> Self {
        self.exit_code = code;
        self
    }

    /// Appends `bytes` of padding (streamed when written to a file).
    pub fn padding(mut self, bytes: u64) -> Self {
        self.padding = bytes;
        self
    }

    /// Sets the seed of the padding bytes.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets `e_machine` (e.g. [`EM_X86_64`] for a non-RISC-V ELF).
    pub fn machine(mut self, machine: u16) -> Self {
        self.machine = machine;
        self
    }

    /// The total size of the file in bytes.
    pub fn file_size(&self) -> u64 {
        self.image().len() as u64 + self.padding
    }

    /// Writes the ELF to `path` (padding streamed in chunks) and makes it executable.
    pub fn write_to(&self, path: &Path) -> io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        self.write(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        set_executable(path)
    }

    /// Writes the ELF to any writer.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.image())?;
        let mut rng = XorShift(self.seed | 1);
        let mut chunk = vec![0u8; 1 << 20];
        let mut left = self.padding;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            rng.fill(&mut chunk[..n]);
            out.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// The whole file in memory (only sensible for small padding).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write(&mut buf).expect("writing to a Vec cannot fail");
        buf
    }

    /// Header, program header, code and message: the loaded image.
    fn image(&self) -> Vec<u8> {
        let class = self.class;
        let headers = u64::from(class.ehsize()) + u64::from(class.phentsize());
        let entry = BASE + headers;
        let code = self.code();
        let image_len = headers + code.len() as u64 + self.message.len() as u64;

        let mut b = Vec::with_capacity(image_len as usize);
        // e_ident
        b.extend_from_slice(b"\x7fELF");
        b.push(match class {
            Class::Elf32 => 1,
            Class::Elf64 => 2,
        });
        b.push(1); // little-endian
        b.push(1); // EV_CURRENT
        b.push(0); // System V ABI
        b.extend_from_slice(&[0; 8]);
        push16(&mut b, 2); // ET_EXEC
        push16(&mut b, self.machine);
        push32(&mut b, 1); // e_version
        let ehsize = u64::from(class.ehsize());
        match class {
            Class::Elf32 => {
                push32(&mut b, entry as u32);
                push32(&mut b, ehsize as u32); // e_phoff
                push32(&mut b, 0); // e_shoff
            }
            Class::Elf64 => {
                push64(&mut b, entry);
                push64(&mut b, ehsize);
                push64(&mut b, 0);
            }
        }
        push32(&mut b, 0); // e_flags: soft-float ABI, no extensions required
        push16(&mut b, class.ehsize());
        push16(&mut b, class.phentsize());
        push16(&mut b, 1); // e_phnum
        push16(&mut b, 0); // e_shentsize
        push16(&mut b, 0); // e_shnum
        push16(&mut b, 0); // e_shstrndx
        debug_assert_eq!(b.len() as u64, ehsize);

        const PT_LOAD: u32 = 1;
        const PF_R_X: u32 = 5;
        match class {
            Class::Elf32 => {
                push32(&mut b, PT_LOAD);
                push32(&mut b, 0); // p_offset
                push32(&mut b, BASE as u32); // p_vaddr
                push32(&mut b, BASE as u32); // p_paddr
                push32(&mut b, image_len as u32); // p_filesz
                push32(&mut b, image_len as u32); // p_memsz
                push32(&mut b, PF_R_X);
                push32(&mut b, 0x1000);
            }
            Class::Elf64 => {
                push32(&mut b, PT_LOAD);
                push32(&mut b, PF_R_X);
                push64(&mut b, 0);
                push64(&mut b, BASE);
                push64(&mut b, BASE);
                push64(&mut b, image_len);
                push64(&mut b, image_len);
                push64(&mut b, 0x1000);
            }
        }
        debug_assert_eq!(b.len() as u64, headers);
        for insn in code {
            push32(&mut b, insn);
        }
        b.extend_from_slice(&self.message);
        b
    }

    /// The instructions; the message follows them directly.
    fn code(&self) -> Vec<u32> {
        const A0: u32 = 10;
        const A1: u32 = 11;
        const A2: u32 = 12;
        const A7: u32 = 17;
        let len = u32::try_from(self.message.len()).expect("message under 2 GiB");
        assert!(len < 0x7fff_f800, "message too long");
        let mut code = Vec::new();
        code.push(addi(A7, 0, 64)); // write
        code.push(addi(A0, 0, 1)); // stdout
        let auipc_at = code.len();
        code.push(auipc(A1, 0));
        code.push(0); // addi a1, a1, <offset of message from the auipc>, patched below
        code.extend(li(A2, len));
        code.push(ECALL);
        code.push(addi(A7, 0, 93)); // exit
        code.push(addi(A0, 0, i32::from(self.exit_code)));
        code.push(ECALL);
        let offset = ((code.len() - auipc_at) * 4) as i32;
        code[auipc_at + 1] = addi(A1, A1, offset);
        code
    }
}

/// Writes a small RISC-V ELF of `class` printing `message` to `path`.
pub fn write_elf(path: &Path, class: Class, message: &str) -> io::Result<()> {
    ElfSpec::new(class).message(message).write_to(path)
}

const ECALL: u32 = 0x0000_0073;

fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    assert!((-2048..2048).contains(&imm), "addi immediate out of range");
    (((imm as u32) & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
}

fn auipc(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x17
}

fn lui(rd: u32, imm20: u32) -> u32 {
    ((imm20 & 0xf_ffff) << 12) | (rd << 7) | 0x37
}

/// `li rd, value` as `lui` + `addi` (the low 12 bits are sign-extended, so round the high part).
fn li(rd: u32, value: u32) -> [u32; 2] {
    let hi = value.wrapping_add(0x800) >> 12;
    let lo = (value as i32) - ((hi << 12) as i32);
    [lui(rd, hi), addi(rd, rd, lo)]
}

fn push16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn push32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn push64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

struct XorShift(u64);

impl XorShift {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(unix)]
fn set_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run_in_qemu(class: Class, message: &str, code: u8, padding: u64) {
        let dir = std::env::temp_dir().join(format!(
            "zkelf-testsupport-{}-{:?}-{padding}-{}",
            std::process::id(),
            class,
            message.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.elf");
        let spec = ElfSpec::new(class)
            .message(message)
            .exit_code(code)
            .padding(padding);
        spec.write_to(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), spec.file_size());
        let out = match Command::new(class.qemu()).arg(&path).output() {
            Ok(out) => out,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                panic!(
                    "`{}` is not installed (apt-get install qemu-user)",
                    class.qemu()
                )
            }
            Err(err) => panic!("running {}: {err}", class.qemu()),
        };
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), message);
        assert_eq!(out.status.code(), Some(i32::from(code)));
    }

    #[test]
    fn riscv32_runs_in_qemu() {
        run_in_qemu(Class::Elf32, "hello rv32\n", 0, 0);
    }

    #[test]
    fn riscv64_runs_in_qemu_with_padding() {
        run_in_qemu(Class::Elf64, "hello rv64\n", 7, 3 << 20);
    }

    #[test]
    fn long_message_needs_lui() {
        run_in_qemu(Class::Elf32, &"x".repeat(5000), 1, 0);
    }

    #[test]
    fn li_splits_with_sign_adjusted_low_bits() {
        for value in [0u32, 1, 2047, 2048, 4095, 4096, 0x1234_5fff] {
            let hi = value.wrapping_add(0x800) >> 12;
            let lo = (value as i32) - ((hi << 12) as i32);
            assert!((-2048..2048).contains(&lo));
            assert_eq!(((hi << 12) as i32 + lo) as u32, value);
        }
    }

    #[test]
    fn padding_is_deterministic_and_seeded() {
        let a = ElfSpec::new(Class::Elf32).padding(100).to_bytes();
        let b = ElfSpec::new(Class::Elf32).padding(100).to_bytes();
        let c = ElfSpec::new(Class::Elf32).padding(100).seed(9).to_bytes();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
