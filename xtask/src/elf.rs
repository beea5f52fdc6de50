//! What the firmware's ELF files hold, read with the `object` crate: flash, compiler-runtime
//! code, allocator symbols; and, disassembled by `arm-none-eabi-objdump`, the Helium (MVE)
//! floating-point instructions in the library's code.

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

/// The Helium (MVE) floating-point instructions in the library's functions of the Armv8.1-M
/// ELF at `path`, as `function: instruction` lines: the instructions with a `q` register
/// operand and an `.f16` / `.f32` type, arithmetic, comparisons and conversions, which flush
/// subnormal inputs and results to zero whatever FPSCR says. Moves (`vmov`) keep every bit
/// and are left out. A library function is one whose demangled name mentions `focal_loss::`
/// (generic code instantiated with the library's types or closures included).
pub fn mve_float_ops(path: &Path) -> Result<Vec<String>> {
    let sh = crate::shell()?;
    let cmd = xshell::cmd!(
        sh,
        "arm-none-eabi-objdump -d -m armv8.1-m.main --no-show-raw-insn {path}"
    );
    let text = cmd.quiet().read()?;
    Ok(mve_float_lines(&text))
}

/// [`mve_float_ops`] of `objdump -d` output.
fn mve_float_lines(disassembly: &str) -> Vec<String> {
    let mut function = String::new();
    let mut found = Vec::new();
    for line in disassembly.lines() {
        // `00000818 <symbol>:` starts a function.
        if let Some(name) = line
            .split_once(" <")
            .and_then(|(_, rest)| rest.strip_suffix(">:"))
        {
            function = format!("{:#}", rustc_demangle::demangle(name));
            continue;
        }
        // `     8c0:\tvadd.f32\tq4, q4, q3`
        let mut fields = line.split('\t').skip(1);
        let (Some(mnemonic), Some(operands)) = (fields.next(), fields.next()) else {
            continue;
        };
        let float = mnemonic.contains(".f32") || mnemonic.contains(".f16");
        let is_q = |op: &str| op.len() == 2 && op.starts_with('q');
        let on_q = operands.split([',', ' ', '{', '}']).any(is_q);
        if float && on_q && !mnemonic.starts_with("vmov") && function.contains("focal_loss::") {
            found.push(format!("{function}: {mnemonic} {operands}"));
        }
    }
    found
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
    fn finds_mve_float_instructions_in_library_code() {
        let text = "\
00000818 <_RNvMNtCs9YFO6ES6zi7_10focal_loss3sumNtB2_8BlockSum6finish>:
     8b0:\tvldrw.u32\tq4, [r2, #64]
     8b4:\tvmov.f32\tq3, #1.0
     8c0:\tvadd.f32\tq4, q4, q3
     8cc:\tvadd.f32\ts10, s10, s0
     8d0:\tvmul.f32\tq0, q0, r6

00002b26 <_RNvCsctGXTsgwTHC_5check18___cortex_m_rt_main>:
    2b62:\tvmul.f32\tq0, q0, r6
";
        let found = mve_float_lines(text);
        assert_eq!(
            found,
            [
                "<focal_loss::sum::BlockSum>::finish: vadd.f32 q4, q4, q3",
                "<focal_loss::sum::BlockSum>::finish: vmul.f32 q0, q0, r6",
            ]
        );
    }

    #[test]
    fn reads_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let footprint = footprint(&exe).unwrap();
        assert!(footprint.flash > 0);
        assert!(footprint.allocator, "a std program links an allocator");
    }
}
