//! The journal: every job the agent took on, and how far it got, in an embedded database
//! (redb), written before each step so that a crash loses nothing and doubles nothing.
//!
//! A job moves `Running` → `Executed` (outputs stored, manifest fixed) → `Submitting` (the
//! signed `submit_result` transaction, stored before it is sent) → `Submitted` (seen on
//! chain). After a restart a `Running` job is run again from the start, an `Executed` one is
//! signed and sent, and a `Submitting` one is re-sent as the same bytes: they carry one nonce,
//! so at most one copy is ever included. A `Submitted` job is never sent again.
use std::path::Path;

use anyhow::Context;
use codec::{Decode, Encode};
use lilypad_primitives::jobs::{JobId, ResultManifest};
use redb::{Database, ReadableTable, TableDefinition};

const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");

/// How far a job got.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Entry {
	/// Taken on; running, or to be run again after a restart.
	Running { execute_by: u32 },
	/// Ran; its outputs are in the content store and this is the manifest to sign.
	Executed { manifest: ResultManifest, execute_by: u32 },
	/// The signed transaction, stored before it was sent, and the nonce it uses.
	Submitting { manifest: ResultManifest, execute_by: u32, tx: Vec<u8>, nonce: u64 },
	/// On chain.
	Submitted { manifest: ResultManifest },
	/// Given up on (its deadline passed, or the chain no longer awaits it), with why.
	Abandoned { reason: String },
}

impl Entry {
	/// The step's name, for logs.
	pub fn step(&self) -> &'static str {
		match self {
			Entry::Running { .. } => "running",
			Entry::Executed { .. } => "executed",
			Entry::Submitting { .. } => "submitting",
			Entry::Submitted { .. } => "submitted",
			Entry::Abandoned { .. } => "abandoned",
		}
	}

	/// Whether nothing more is to be done for the job.
	pub fn is_done(&self) -> bool {
		matches!(self, Entry::Submitted { .. } | Entry::Abandoned { .. })
	}
}

/// The job journal.
pub struct Journal {
	db: Database,
}

impl Journal {
	/// Opens (creating) the journal at `path`.
	pub fn open(path: &Path) -> anyhow::Result<Self> {
		let db = Database::create(path)
			.with_context(|| format!("open the job journal {}", path.display()))?;
		let tx = db.begin_write()?;
		tx.open_table(JOBS)?;
		tx.commit()?;
		Ok(Self { db })
	}

	/// Records `entry` for `job`, durably, before returning.
	pub fn put(&self, job: JobId, entry: &Entry) -> anyhow::Result<()> {
		let tx = self.db.begin_write()?;
		tx.open_table(JOBS)?.insert(job, entry.encode().as_slice())?;
		tx.commit().context("commit the journal")?;
		Ok(())
	}

	/// What the journal holds for `job`.
	pub fn get(&self, job: JobId) -> anyhow::Result<Option<Entry>> {
		let tx = self.db.begin_read()?;
		let table = tx.open_table(JOBS)?;
		let value = table.get(job)?;
		value
			.map(|v| Entry::decode(&mut v.value()).context("a journal entry does not decode"))
			.transpose()
	}

	/// Every job not yet done, oldest first.
	pub fn unfinished(&self) -> anyhow::Result<Vec<(JobId, Entry)>> {
		let tx = self.db.begin_read()?;
		let table = tx.open_table(JOBS)?;
		let mut out = Vec::new();
		for row in table.iter()? {
			let (k, v) = row?;
			let entry = Entry::decode(&mut v.value()).context("a journal entry does not decode")?;
			if !entry.is_done() {
				out.push((k.value(), entry));
			}
		}
		Ok(out)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use lilypad_primitives::jobs::{ExitStatus, Usage};

	fn manifest(job: JobId) -> ResultManifest {
		ResultManifest {
			job,
			module_digest: [1; 32],
			input_digest: [2; 32],
			output_digest: [3; 32],
			stdout_digest: [4; 32],
			stderr_digest: [5; 32],
			exit: ExitStatus::Success,
			usage: Usage::default(),
		}
	}

	#[test]
	fn entries_survive_reopening_and_done_jobs_are_not_unfinished() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("journal.redb");
		{
			let j = Journal::open(&path).unwrap();
			j.put(1, &Entry::Running { execute_by: 10 }).unwrap();
			j.put(2, &Entry::Executed { manifest: manifest(2), execute_by: 20 }).unwrap();
			j.put(3, &Entry::Submitted { manifest: manifest(3) }).unwrap();
			j.put(
				4,
				&Entry::Submitting {
					manifest: manifest(4),
					execute_by: 9,
					tx: vec![9; 100],
					nonce: 7,
				},
			)
			.unwrap();
		}
		let j = Journal::open(&path).unwrap();
		let unfinished = j.unfinished().unwrap();
		assert_eq!(unfinished.iter().map(|(id, _)| *id).collect::<Vec<_>>(), vec![1, 2, 4]);
		assert_eq!(j.get(3).unwrap(), Some(Entry::Submitted { manifest: manifest(3) }));
		assert_eq!(j.get(5).unwrap(), None);
		j.put(1, &Entry::Abandoned { reason: "deadline passed".into() }).unwrap();
		assert_eq!(j.unfinished().unwrap().len(), 2);
	}
}
