//! What the firmware's ELF files hold, read with the `object` crate: flash, compiler-runtime
//! code, allocator symbols.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

/// The sections that go to flash.
const FLASH_SECTIONS: [&str; 3] = [".vector_table", ".text", ".rodata"];
/// Symbols any global allocator brings in.
const ALLOCATOR_SYMBOLS: [&str; 4] = [
    "__rust_alloc",
    "__rg_alloc",
    "__rdl_alloc",
    "__rust_alloc_error_handler",
];

/// The footprint of one ELF.
#[derive(Debug)]
pub struct Footprint {
    /// `.vector_table` + `.text` + `.rodata`, in bytes.
    pub flash: u64,
    /// Bytes of code from the compiler's runtime (`compiler_builtins`: soft-float arithmetic
    /// and conversions, integer helpers, `memcpy`), which any firmware doing the same
    /// arithmetic links too. Aliases (`__aeabi_fadd` = `__addsf3`) count once.
    ///
    /// On Cortex-M it is the functions of `compiler_builtins`' own (mangled) names and the
    /// ARM EABI names; on RISC-V most of it has only the libgcc name (`__eqsf2`,
    /// `__fixunssfsi`) or the C name (`memset`).
    pub runtime: u64,
    /// Whether the ELF defines or references an allocator symbol.
    pub allocator: bool,
}

/// Reads the footprint of the ELF at `path`.
pub fn footprint(path: &Path) -> Result<Footprint> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file = object::File::parse(&*data);
    let file = file.with_context(|| format!("{} is not an object file", path.display()))?;
    let in_flash = |s: &object::Section| s.name().is_ok_and(|n| FLASH_SECTIONS.contains(&n));
    let flash = file.sections().filter(in_flash).map(|s| s.size()).sum();
    let in_code = |symbol: &object::Symbol| {
        let section = symbol.section_index().map(|i| file.section_by_index(i));
        let in_text = section.is_some_and(|s| s.is_ok_and(|s| s.kind() == SectionKind::Text));
        // Functions only: not the linker script's markers (`__stext`) in `.text`.
        in_text && symbol.kind() == SymbolKind::Text
    };
    // Runtime code by address, so that aliases count once.
    let mut runtime = BTreeMap::new();
    let mut allocator = false;
    for symbol in file.symbols() {
        let name = symbol.name().unwrap_or_default();
        allocator |= ALLOCATOR_SYMBOLS.iter().any(|s| name.contains(s));
        if symbol.is_definition() && in_code(&symbol) && is_runtime(name) {
            runtime.insert(symbol.address(), symbol.size());
        }
    }
    let runtime = runtime.values().sum();
    Ok(Footprint {
        flash,
        runtime,
        allocator,
    })
}

/// The C library functions `compiler_builtins` defines under their C names.
const MEM_FUNCTIONS: [&str; 5] = ["memcpy", "memmove", "memset", "memcmp", "bcmp"];

/// Whether a (mangled) function name is compiler runtime.
fn is_runtime(name: &str) -> bool {
    // `{:#}` leaves out the crate hashes: `compiler_builtins::mem::memcpy`.
    let demangled = format!("{:#}", rustc_demangle::demangle(name));
    // libgcc's names: `__` and the operation and modes, lower case, no further `_`.
    let libgcc = name.strip_prefix("__").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    demangled.contains("compiler_builtins::")
        || demangled.starts_with("__aeabi_")
        || demangled.starts_with("__clz")
        || libgcc
        || MEM_FUNCTIONS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_symbols() {
        let legacy = "_ZN17compiler_builtins5float3add8__addsf317h0123456789abcdefE";
        let v0 = "_RNvNtCs7zVNTGpFKHO_17compiler_builtins3mem6memcpy";
        let riscv = [
            "__eqsf2",
            "__fixunssfsi",
            "__floatunsisf",
            "__udivdi3",
            "memset",
        ];
        for name in [legacy, v0, "__aeabi_fadd", "__clzsi2"]
            .into_iter()
            .chain(riscv)
        {
            assert!(is_runtime(name), "{name}");
        }
        let ours = "_ZN10focal_loss7sigmoid4loss17h0123456789abcdefE";
        for name in [
            ours,
            "__pre_init",
            "__defmt_default_timestamp",
            "_start_rust",
            "main",
        ] {
            assert!(!is_runtime(name), "{name}");
        }
    }

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let footprint = footprint(&exe).unwrap();
        assert!(footprint.flash > 0);
        assert!(footprint.allocator, "a std program links an allocator");
    }
}
