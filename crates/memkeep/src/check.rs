//! `memkeep check`: the engine's offline verification, printed for people
//! (a table) or for scripts (`--json`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use memkeep_engine::check::{CheckReport, FileCheck, FileKind, FileStatus, Verdict, check_dir};
use serde_json::json;

use crate::cli::CheckArgs;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let report = check_dir(&args.data_dir)
        .with_context(|| format!("checking {}", args.data_dir.display()))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&to_json(&report))?)?;
    } else {
        write_table(&mut out, &report)?;
    }
    Ok(match report.verdict {
        Verdict::Healthy | Verdict::TornTail => ExitCode::SUCCESS,
        Verdict::Damaged => ExitCode::from(2),
    })
}

fn kind(f: &FileCheck) -> &'static str {
    match f.kind {
        FileKind::Snapshot => "snapshot",
        FileKind::Segment => "journal",
    }
}

fn describe(f: &FileCheck) -> String {
    let what = match (f.kind, f.first_seq, f.last_seq) {
        (FileKind::Snapshot, Some(seq), _) => format!("at record {seq}, {} keys", f.count),
        (FileKind::Segment, Some(first), Some(last)) => format!("records {first}..={last}"),
        (FileKind::Segment, Some(first), None) => format!("no records (starts at {first})"),
        _ => String::new(),
    };
    let state = match &f.status {
        FileStatus::Ok => "ok".to_owned(),
        FileStatus::TornTail { offset, reason } => format!("torn tail at byte {offset}: {reason}"),
        FileStatus::Damaged { offset, reason } => format!("DAMAGED at byte {offset}: {reason}"),
    };
    let old = if f.superseded {
        " (superseded, ignored)"
    } else {
        ""
    };
    format!("{state}; {what}{old}")
}

fn write_table(out: &mut impl Write, r: &CheckReport) -> std::io::Result<()> {
    writeln!(out, "memkeep check: {}", r.dir.display())?;
    if r.files.is_empty() {
        writeln!(out, "  no snapshot or journal files: an empty store")?;
    }
    for f in &r.files {
        let name = f.path.strip_prefix(&r.dir).unwrap_or(&f.path);
        writeln!(
            out,
            "  {:<8}  {:<44} {:>10}  {}",
            kind(f),
            name.display(),
            human_bytes(f.bytes),
            describe(f)
        )?;
    }
    for p in &r.problems {
        writeln!(out, "  problem: {p}")?;
    }
    let verdict = match r.verdict {
        Verdict::Healthy => format!("healthy: the store opens at record {}", r.last_seq),
        Verdict::TornTail => format!(
            "healthy with a torn last record: opening cuts it off (it was never acknowledged); the store opens at record {}",
            r.last_seq
        ),
        Verdict::Damaged => {
            "DAMAGED: the store refuses to open; restore from a backup, or open with \
             recovery that drops the damaged journal suffix"
                .to_owned()
        }
    };
    writeln!(out, "verdict: {verdict}")
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn to_json(r: &CheckReport) -> serde_json::Value {
    let files: Vec<_> = r
        .files
        .iter()
        .map(|f| {
            let (status, offset, reason) = match &f.status {
                FileStatus::Ok => ("ok", None, None),
                FileStatus::TornTail { offset, reason } => {
                    ("torn_tail", Some(*offset), Some(reason.clone()))
                }
                FileStatus::Damaged { offset, reason } => {
                    ("damaged", Some(*offset), Some(reason.clone()))
                }
            };
            json!({
                "path": f.path,
                "kind": kind(f),
                "bytes": f.bytes,
                "status": status,
                "offset": offset,
                "reason": reason,
                "first_seq": f.first_seq,
                "last_seq": f.last_seq,
                "count": f.count,
                "superseded": f.superseded,
            })
        })
        .collect();
    json!({
        "dir": r.dir,
        "verdict": match r.verdict {
            Verdict::Healthy => "healthy",
            Verdict::TornTail => "torn_tail",
            Verdict::Damaged => "damaged",
        },
        "last_seq": r.last_seq,
        "problems": r.problems,
        "files": files,
    })
}
