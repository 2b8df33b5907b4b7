//! The ELF check `sign` and `import` make before they accept a guest (`zkelf_trust::elf`): the
//! in-memory reader and the cached one `riscv_class` reads files with give the same answer, and
//! what they accept is what the check claims, read here straight from the bytes: a little-endian
//! RISC-V executable of the class returned, whose header, program headers, segments and sections
//! lie within the file, with a loadable segment.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zkelf_trust::elf::{ElfClass, riscv_class_of, riscv_class_of_reader};

const ET_EXEC: u16 = 2;
const EM_RISCV: u16 = 243;
const PT_LOAD: u32 = 1;
const SHT_NOBITS: u32 = 8;
/// `e_phnum` saying the count is section 0's `sh_info`.
const PN_XNUM: u16 = 0xffff;

/// The error with its causes, as the cli prints it.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Little-endian fields of an ELF the check accepted, and of its layout for the class.
struct Fields<'a> {
    data: &'a [u8],
    wide: bool,
}

impl Fields<'_> {
    fn u16(&self, at: u64) -> u16 {
        let at = usize::try_from(at).expect("an offset within the input");
        u16::from_le_bytes(self.data[at..at + 2].try_into().expect("two bytes"))
    }

    fn u32(&self, at: u64) -> u32 {
        let at = usize::try_from(at).expect("an offset within the input");
        u32::from_le_bytes(self.data[at..at + 4].try_into().expect("four bytes"))
    }

    /// An address, offset or size: 4 bytes in ELF32, 8 in ELF64.
    fn word(&self, at: u64) -> u64 {
        if !self.wide {
            return u64::from(self.u32(at));
        }
        let at = usize::try_from(at).expect("an offset within the input");
        u64::from_le_bytes(self.data[at..at + 8].try_into().expect("eight bytes"))
    }

    fn within(&self, offset: u64, size: u64) -> bool {
        offset
            .checked_add(size)
            .is_some_and(|end| end <= self.data.len() as u64)
    }

    /// `(e_ehsize, e_phentsize, e_shentsize)` of the class.
    fn sizes(&self) -> (u64, u64, u64) {
        if self.wide {
            (64, 56, 64)
        } else {
            (52, 32, 40)
        }
    }

    /// The offset of the field at `narrow` in ELF32 and `wide` in ELF64.
    fn at(&self, narrow: u64, wide: u64) -> u64 {
        if self.wide { wide } else { narrow }
    }
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.elf");
    let in_memory = riscv_class_of(data, path);
    let streamed = riscv_class_of_reader(Cursor::new(data), path);
    match (&in_memory, &streamed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(chain(a), chain(b)),
        _ => panic!("in memory: {in_memory:?}; streamed: {streamed:?}"),
    }
    let Ok(class) = in_memory else {
        return;
    };
    let f = Fields {
        data,
        wide: class == ElfClass::Elf64,
    };
    let (ehsize, phentsize, shentsize) = f.sizes();
    assert!(f.within(0, ehsize), "accepted, but shorter than its header");
    assert_eq!(&data[..4], b"\x7fELF");
    assert_eq!(data[4], if f.wide { 2 } else { 1 }, "EI_CLASS");
    assert_eq!(data[5], 1, "EI_DATA is not little-endian");
    assert_eq!(f.u16(16), ET_EXEC, "e_type");
    assert_eq!(f.u16(18), EM_RISCV, "e_machine");

    let phoff = f.word(f.at(28, 32));
    let shoff = f.word(f.at(32, 40));
    let e_phentsize = f.u16(f.at(42, 54));
    let e_phnum = f.u16(f.at(44, 56));
    let e_shentsize = f.u16(f.at(46, 58));
    let e_shnum = f.u16(f.at(48, 60));
    // Section 0 holds the counts the header cannot: `e_phnum` past `PN_XNUM`, `e_shnum` 0.
    let section_0 = || {
        assert_ne!(shoff, 0, "a count in section 0, but no section headers");
        assert_eq!(u64::from(e_shentsize), shentsize, "e_shentsize");
        assert!(f.within(shoff, shentsize), "section 0 past the end");
        shoff
    };

    let phnum = if e_phnum < PN_XNUM {
        u64::from(e_phnum)
    } else {
        u64::from(f.u32(section_0() + f.at(28, 44)))
    };
    assert!(phoff != 0 && phnum > 0, "accepted without program headers");
    assert_eq!(u64::from(e_phentsize), phentsize, "e_phentsize");
    assert!(
        f.within(phoff, phnum * phentsize),
        "program headers past the end"
    );
    let mut loads = 0;
    for index in 0..phnum {
        let ph = phoff + index * phentsize;
        let (offset, size) = (f.word(ph + f.at(4, 8)), f.word(ph + f.at(16, 32)));
        assert!(f.within(offset, size), "segment {index} past the end");
        if f.u32(ph) == PT_LOAD {
            loads += 1;
        }
    }
    assert!(loads > 0, "accepted without a loadable segment");

    if shoff == 0 {
        return;
    }
    let shnum = if e_shnum > 0 {
        u64::from(e_shnum)
    } else {
        f.word(section_0() + f.at(20, 32))
    };
    if shnum == 0 {
        return;
    }
    assert_eq!(u64::from(e_shentsize), shentsize, "e_shentsize");
    assert!(
        shnum
            .checked_mul(shentsize)
            .is_some_and(|size| f.within(shoff, size)),
        "section headers past the end"
    );
    for index in 0..shnum {
        let sh = shoff + index * shentsize;
        if f.u32(sh + 4) == SHT_NOBITS {
            continue;
        }
        let (offset, size) = (f.word(sh + f.at(16, 24)), f.word(sh + f.at(20, 32)));
        assert!(f.within(offset, size), "section {index} past the end");
    }
});
