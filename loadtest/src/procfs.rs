//! A server process's CPU time, read from `/proc/PID/stat`: what `react` and `fanout`
//! report as the server's cost of a phase.

use anyhow::Context as _;

/// User plus system CPU seconds of the processes in `pids`, summed (several nodes on
/// this machine); `None` when `pids` is empty.
pub(crate) fn total_cpu_secs(pids: &[u32]) -> anyhow::Result<Option<f64>> {
    if pids.is_empty() {
        return Ok(None);
    }
    let mut total = 0.0;
    for pid in pids {
        total += cpu_secs(*pid)?;
    }
    Ok(Some(total))
}

/// User plus system CPU seconds of a process, from `/proc/PID/stat`.
pub(crate) fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let ticks = parse_cpu_ticks(&stat).with_context(|| format!("no CPU times in {path}"))?;
    Ok(ticks as f64 / clock_ticks_per_sec()? as f64)
}

/// USER_HZ, the unit of `/proc` CPU times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks_per_sec() -> anyhow::Result<u64> {
    static HZ: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    HZ.get_or_init(|| {
        let out = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    })
    .filter(|hz| *hz > 0)
    .context("`getconf CLK_TCK` gave no clock tick rate")
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line; the command name in
/// parentheses may hold spaces, so fields are counted after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_ticks_past_a_name_with_spaces() {
        let stat = "4242 (plenary x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1500 250 0 0 20 0 9 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1750));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_has_cpu_time() {
        assert!(cpu_secs(std::process::id()).unwrap() >= 0.0);
        let me = std::process::id();
        assert!(total_cpu_secs(&[me, me]).unwrap().unwrap() >= 0.0);
        assert_eq!(total_cpu_secs(&[]).unwrap(), None);
        assert!(total_cpu_secs(&[u32::MAX]).is_err(), "no such process");
    }
}
