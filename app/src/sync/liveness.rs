//! Which workers are gone for good: a run whose process died on this host (kill -9, a
//! crash, the OOM killer) is taken over at once rather than when its heartbeat goes stale.
//!
//! A worker names itself `KIND:HOST:PID:START` (`cli:db-1:4242:88123`), START being when
//! the process started, in clock ticks since boot (`/proc/PID/stat`), so that a PID
//! reused by a later process, e.g. PID 1 of a restarted container, still reads as dead.
//! Only a worker of this host is ever judged, and only through `/proc`; anything unsure
//! (another host, an id of another form, no `/proc`, a PID this process may not see)
//! reads as alive, which leaves that run to the heartbeat rule. Hosts are told apart by
//! their hostname: processes that share a database must not share one across PID
//! namespaces (containers get their own by default).

use std::io::ErrorKind;

/// What `this_host` gives when the hostname cannot be read: it matches no one.
const NO_HOST: &str = "?";
const NO_START: &str = "-";

/// This process's worker name, `KIND:HOST:PID:START`. A kind named again in the same
/// process gets a number (`web.2`): two engines are two holders, whose writes to each
/// other's runs must be refused as any other worker's.
pub fn worker_id(kind: &str) -> String {
    static MADE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let kind = {
        let mut made = MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let before = made.iter().filter(|k| *k == kind).count();
        made.push(kind.to_string());
        if before == 0 {
            kind.to_string()
        } else {
            format!("{kind}.{}", before + 1)
        }
    };
    let pid = std::process::id();
    let host = this_host();
    let start = read_stat(pid).and_then(|stat| start_time(&stat)).map_or(NO_START.to_string(), |s| s.to_string());
    format!("{kind}:{}:{pid}:{start}", host.as_deref().unwrap_or(NO_HOST))
}

/// A worker name taken apart (its kind only says who is working).
#[derive(Debug, Clone, PartialEq, Eq)]
struct WorkerId<'a> {
    host: &'a str,
    pid: u32,
    start: Option<u64>,
}

/// `None` for a name of another form (older versions', tests'): such a worker is never
/// judged dead.
fn parse(id: &str) -> Option<WorkerId<'_>> {
    let (kind, rest) = id.split_once(':')?;
    let (rest, start) = rest.rsplit_once(':')?;
    let (host, pid) = rest.rsplit_once(':')?;
    let start = match start {
        NO_START => None,
        ticks => Some(ticks.parse().ok()?),
    };
    if kind.is_empty() || host.is_empty() || host == NO_HOST {
        return None;
    }
    Some(WorkerId { host, pid: pid.parse().ok()?, start })
}

/// What a claim takes over, now: (now, the heartbeat before which a run is stale, the
/// workers among `running` whose process is gone from this host).
pub(super) fn takeover_terms(stale_after: std::time::Duration, running: &[String]) -> (i64, i64, Vec<String>) {
    let now = crate::store::now();
    let dead = dead_workers(running);
    if !dead.is_empty() {
        tracing::info!(sync.dead_workers = ?dead, "a sync worker's process is gone: its run is taken over now");
    }
    (now, now - stale_after.as_secs() as i64, dead)
}

/// The workers among `claimed` that ran on this host in a process that is gone.
pub fn dead_workers(claimed: &[String]) -> Vec<String> {
    let Some(host) = this_host() else { return Vec::new() };
    // With hidepid, other users' processes are missing from /proc though alive; PID 1 is
    // then hidden too (unless we are root, who sees them all), and /proc cannot tell.
    if read_stat(std::process::id()).is_none() || read_stat(1).is_none() {
        return Vec::new();
    }
    dead_on(&host, claimed, is_alive)
}

/// `dead_workers`, with the host and the way to tell a live process given.
fn dead_on(host: &str, claimed: &[String], alive: impl Fn(u32, Option<u64>) -> bool) -> Vec<String> {
    claimed.iter().filter(|id| parse(id).is_some_and(|w| w.host == host && !alive(w.pid, w.start))).cloned().collect()
}

/// Whether process `pid`, started at `start` when known, is still running. Unsure is alive.
fn is_alive(pid: u32, start: Option<u64>) -> bool {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat,
        Err(err) if err.kind() == ErrorKind::NotFound => return false,
        Err(_) => return true,
    };
    if matches!(state(&stat), Some('Z' | 'X')) {
        return false;
    }
    match (start, start_time(&stat)) {
        (Some(claimed), Some(running)) => claimed == running,
        _ => true,
    }
}

fn read_stat(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()
}

/// The fields after the command name, which is in parentheses and may hold spaces and
/// parentheses itself (proc(5)): field 3 (state) comes first.
fn fields_after_name(stat: &str) -> impl Iterator<Item = &str> {
    stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace()
}

fn state(stat: &str) -> Option<char> {
    fields_after_name(stat).next().and_then(|s| s.chars().next())
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
fn start_time(stat: &str) -> Option<u64> {
    fields_after_name(stat).nth(22 - 3)?.parse().ok()
}

/// The kernel's hostname, as `hostname` prints it.
fn this_host() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty() && name != NO_HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (server (sync) x) S 1 4242 4242 0 -1 4194560 912 0 0 0 3 1 0 0 20 0 9 0 88123 \
                        1250000000 4000 18446744073709551615 1 1 0 0 0 0 0 4096 17734 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn a_worker_id_names_its_host_pid_and_start() {
        assert_eq!(parse("cli:db-1:4242:88123"), Some(WorkerId { host: "db-1", pid: 4242, start: Some(88123) }));
        assert_eq!(parse("web:db-1:7:-"), Some(WorkerId { host: "db-1", pid: 7, start: None }));
    }

    #[test]
    fn names_of_another_form_are_not_worker_ids() {
        for id in ["cli-4242", "doomed", "cli:db-1:4242", "cli:db-1:pid:1", "cli:?:4242:1", ":db-1:1:1", "cli::1:1"] {
            assert_eq!(parse(id), None, "{id}");
        }
        assert_eq!(parse("cli:db-1:4242:soon"), None);
    }

    #[test]
    fn this_process_names_itself_by_this_host_and_its_pid() {
        let id = worker_id("cli");
        let parsed = parse(&id).expect("a worker id");
        assert!(id.starts_with("cli:") || id.starts_with("cli."), "{id}");
        assert_eq!(parsed.pid, std::process::id());
        assert_eq!(Some(parsed.host.to_string()), this_host());
        assert!(parsed.start.is_some(), "{id}");
    }

    #[test]
    fn two_engines_of_one_process_are_two_workers() {
        let (first, second) = (worker_id("twin"), worker_id("twin"));
        assert_ne!(first, second);
        assert!(first.starts_with("twin:") && second.starts_with("twin.2:"), "{first} {second}");
        assert_eq!(parse(&first).map(|w| w.pid), parse(&second).map(|w| w.pid));
    }

    #[test]
    fn the_start_time_is_read_past_a_command_name_with_spaces_and_parentheses() {
        assert_eq!(start_time(STAT), Some(88123));
        assert_eq!(state(STAT), Some('S'));
        assert_eq!(start_time("4242 (server) S 1"), None);
    }

    #[test]
    fn this_process_is_alive() {
        let id = worker_id("cli");
        let me = parse(&id).unwrap();
        assert!(is_alive(me.pid, me.start));
        assert!(is_alive(me.pid, None));
    }

    #[test]
    fn a_process_spawned_and_reaped_is_dead() {
        let mut child = std::process::Command::new("true").spawn().expect("run `true`");
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_alive(pid, None));
    }

    #[test]
    fn a_pid_now_held_by_a_process_started_at_another_time_is_dead() {
        let id = worker_id("cli");
        let me = parse(&id).unwrap();
        assert!(!is_alive(me.pid, me.start.map(|s| s + 1)));
    }

    #[test]
    fn only_workers_of_this_host_whose_process_is_gone_are_dead() {
        let mut child = std::process::Command::new("true").spawn().expect("run `true`");
        let gone = child.id();
        child.wait().unwrap();
        let me = std::process::id();
        let claimed = [
            format!("cli:here:{gone}:-"),
            format!("web:here:{me}:-"),
            format!("cli:elsewhere:{gone}:-"),
            "rescuer".to_string(),
        ];
        assert_eq!(dead_on("here", &claimed, is_alive), vec![format!("cli:here:{gone}:-")]);
    }

    #[test]
    fn a_worker_of_another_host_is_never_judged() {
        let claimed = ["cli:elsewhere:1:1".to_string()];
        assert!(dead_on("here", &claimed, |_, _| false).is_empty());
        assert_eq!(dead_on("elsewhere", &claimed, |_, _| false), claimed.to_vec());
    }
}
