//! Facts about the machine xtask runs on: CPU, core count, toolchain, date.

use time::OffsetDateTime;
use time::macros::format_description;

/// The first `model name` line of `/proc/cpuinfo` (or the `Model`/`Hardware` line on Arm), else
/// `unknown CPU`.
pub fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let keys = ["model name", "Model", "Hardware"];
    let model = keys.iter().find_map(|key| cpuinfo_field(&cpuinfo, key));
    model.unwrap_or_else(|| "unknown CPU".into())
}

/// The value of the first `key : value` line of a `/proc/cpuinfo` text.
fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

/// CPU 0's data and unified caches, smallest level first, as (`L1d`, `L2`, …, bytes), from
/// `/sys/devices/system/cpu/cpu0/cache/index*/` (Linux); empty where that is missing.
pub fn caches() -> Vec<(String, u64)> {
    let dir = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut caches: Vec<(String, u64)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let field = |name| std::fs::read_to_string(e.path().join(name)).ok();
            cache(&field("level")?, &field("type")?, &field("size")?)
        })
        .collect();
    caches.sort_by_key(|(name, size)| (name.clone(), *size));
    caches
}

/// One cache from its sysfs `level`, `type` and `size` (e.g. `2`, `Unified`, `1024K`): its
/// name and bytes, or `None` for an instruction cache or an unreadable size.
fn cache(level: &str, kind: &str, size: &str) -> Option<(String, u64)> {
    let suffix = match kind.trim() {
        "Data" => "d",
        "Unified" => "",
        _ => return None,
    };
    let size = size.trim();
    let units = [("K", 10), ("M", 20), ("G", 30)];
    let unit = units
        .iter()
        .find_map(|&(unit, shift)| Some((size.strip_suffix(unit)?, shift)));
    let (digits, shift) = unit.unwrap_or((size, 0));
    let bytes = digits.parse::<u64>().ok()? << shift;
    Some((format!("L{}{suffix}", level.trim()), bytes))
}

/// Logical CPUs this process may use.
pub fn logical_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Whether the CPU (and OS) can run the AVX2+FMA determinism build (always false off x86_64).
///
/// `is_x86_feature_detected!` agrees with the `avx2`/`fma` flags of `/proc/cpuinfo` and also
/// checks that the OS saves the AVX state.
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The first line `program flag` prints (e.g. `rustc -V`, run from `PATH` as cargo would).
pub fn version(program: &str, flag: &str) -> Option<String> {
    let sh = crate::shell().ok()?;
    let text = sh.cmd(program).arg(flag).quiet().read().ok()?;
    Some(text.lines().next().unwrap_or_default().to_owned())
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    format_utc(OffsetDateTime::now_utc())
}

/// Formats a time as `YYYY-MM-DD HH:MM UTC`.
fn format_utc(t: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_else(|e| format!("unknown date ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let at = |secs| format_utc(OffsetDateTime::from_unix_timestamp(secs).unwrap());
        assert_eq!(at(0), "1970-01-01 00:00 UTC");
        assert_eq!(at(1_709_251_199), "2024-02-29 23:59 UTC");
    }

    #[test]
    fn cpuinfo_lines() {
        let text = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx2\n";
        let model = cpuinfo_field(text, "model name");
        assert_eq!(model.as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpuinfo_field(text, "Hardware"), None);
    }

    #[test]
    fn cache_entries() {
        let l1d = cache("1\n", "Data\n", "48K\n");
        assert_eq!(l1d, Some(("L1d".into(), 48 << 10)));
        assert_eq!(
            cache("3", "Unified", "32768K"),
            Some(("L3".into(), 32 << 20))
        );
        assert_eq!(cache("1", "Instruction", "32K"), None);
        assert_eq!(cache("2", "Unified", "?"), None);
    }
}
