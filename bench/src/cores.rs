//! Where the processes run. On a machine with four cores or more, the servers (the
//! product, the baselines, the upstream and the peer) get the first half of the cores and
//! the load generator the second half, each through `taskset`, so wrk's own work does not
//! come out of the servers' time. On fewer cores everything shares them, and the report
//! says so: read ratios there, not absolute numbers.

use std::process::Command;

/// Whether servers and the load generator get cores of their own.
pub fn pinned() -> bool {
    count() >= 4
}

pub fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The cores of `who` as a `taskset -c` list, when pinned.
fn list(who: Who) -> String {
    let (n, half) = (count(), count() / 2);
    match who {
        Who::Server => format!("0-{}", half - 1),
        Who::LoadGenerator => format!("{half}-{}", n - 1),
    }
}

#[derive(Clone, Copy)]
pub enum Who {
    Server,
    LoadGenerator,
}

/// `program` to run as `who`: through `taskset` on its cores when pinned.
pub fn command(who: Who, program: impl AsRef<std::ffi::OsStr>) -> Command {
    if !pinned() {
        return Command::new(program);
    }
    let mut command = Command::new("taskset");
    command.arg("-c").arg(list(who)).arg(program);
    command
}

/// One line for the report.
pub fn describe() -> String {
    if pinned() {
        format!(
            "Servers ran on cores {} and wrk on cores {} (`taskset`)",
            list(Who::Server),
            list(Who::LoadGenerator)
        )
    } else {
        format!(
            "The load generator shares the {} cores with the servers (too few to pin them apart), \
             so every number here came from shared cores",
            count()
        )
    }
}
