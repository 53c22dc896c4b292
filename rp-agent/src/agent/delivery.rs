//! Results on chain in batches (docs/fast-jobs.md). Each job's task hands its signed result to
//! one sender, which puts every result waiting when it can send into one `utility.force_batch`
//! (a due heartbeat rides along) and tells each task how its item fared. `force_batch`
//! dispatches each call on its own: one bad item fails alone, its changes undone, and the others
//! stand.
use std::{collections::VecDeque, sync::Arc};

use lilypad_client::chain::RuntimeCall;
use lilypad_primitives::jobs::{JobId, ResultManifest};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::Agent;
use crate::{
	chain::{lilypad, Outcome},
	journal::Entry,
};

/// The most results in one batch: 64 `submit_result`s weigh about 25 ms of the 375 ms a block
/// gives to transactions (pallets/jobs/src/weights.rs), so a batch never waits for room.
pub const MAX_BATCH: usize = 64;

/// What waits to be sent.
pub enum Item {
	/// A job's result (boxed: a result is large, a heartbeat nothing).
	Result(Box<Ready>),
	/// The provider's heartbeat is due.
	Heartbeat,
}

/// A job's result, signed, and where to say how it fared.
pub struct Ready {
	pub job: JobId,
	pub manifest: ResultManifest,
	pub execute_by: u32,
	pub call: RuntimeCall,
	pub fate: oneshot::Sender<anyhow::Result<Fate>>,
}

/// How a result in a batch fared.
#[derive(Debug)]
pub enum Fate {
	/// In a best block, dispatched without error.
	Included,
	/// In a best block, refused: the runtime's error.
	Failed(String),
}

impl Agent {
	/// Sends what the jobs' tasks hand in, in batches, until the agent stops.
	pub(super) async fn send_batches(self: Arc<Self>, mut queue: mpsc::UnboundedReceiver<Item>) {
		while let Some(first) = queue.recv().await {
			let mut items = vec![first];
			while items.len() < MAX_BATCH {
				match queue.try_recv() {
					Ok(item) => items.push(item),
					Err(_) => break,
				}
			}
			self.send_batch(items).await;
		}
	}

	async fn send_batch(&self, items: Vec<Item>) {
		let mut heartbeat = false;
		// The results, and their calls in the same order (generated calls cannot be cloned).
		let (mut results, mut calls) = (Vec::new(), Vec::new());
		for item in items {
			match item {
				Item::Heartbeat => heartbeat = true,
				Item::Result(ready) => {
					let Ready { job, manifest, execute_by, call, fate } = *ready;
					results.push((job, manifest, execute_by, fate));
					calls.push(call);
				}
			}
		}
		let beat = lilypad::transactions().providers().heartbeat();
		if results.is_empty() {
			match self.chain.call(&beat, "heartbeat").await {
				Ok(()) => self.metrics.heartbeat_sent(),
				Err(e) => warn!("heartbeat: {e:#}"),
			}
			return;
		}
		use lilypad::runtime_types::pallet_providers::pallet::Call as ProvidersCall;
		if heartbeat {
			calls.push(RuntimeCall::Providers(ProvidersCall::heartbeat));
		}
		let batch = lilypad::transactions().utility().force_batch(calls);
		let sent = self
			.chain
			.send(&batch, |tx, nonce| {
				for (job, manifest, execute_by, ..) in &results {
					let entry = Entry::Submitting {
						manifest: manifest.clone(),
						execute_by: *execute_by,
						tx: tx.to_vec(),
						nonce,
					};
					self.journal.put(*job, &entry)?;
				}
				Ok(())
			})
			.await;
		let mut fates: VecDeque<anyhow::Result<Fate>> = match sent {
			Ok(Outcome::Success(events)) => {
				let fates = item_fates(&events);
				if heartbeat && matches!(fates.get(results.len()), Some(Fate::Included)) {
					self.metrics.heartbeat_sent();
				}
				info!(results = results.len(), heartbeat, "batch in a best block");
				fates.into_iter().map(Ok).collect()
			}
			Ok(Outcome::Failed(e)) => results.iter().map(|_| Ok(Fate::Failed(e.clone()))).collect(),
			Err(e) => {
				results.iter().map(|_| Err(anyhow::anyhow!("batch not sent: {e:#}"))).collect()
			}
		};
		for (job, .., fate) in results {
			let mine = fates.pop_front().unwrap_or_else(|| {
				Err(anyhow::anyhow!("the batch's events name no fate for job {job}"))
			});
			let _ = fate.send(mine);
		}
	}
}

/// Each call's fate in a `force_batch`'s events, in order: `ItemCompleted` or `ItemFailed`.
fn item_fates(events: &subxt::extrinsics::ExtrinsicEvents<subxt::SubstrateConfig>) -> Vec<Fate> {
	events
		.iter()
		.filter_map(Result::ok)
		.filter(|e| e.pallet_name() == "Utility")
		.filter_map(|e| match e.event_name() {
			"ItemCompleted" => Some(Fate::Included),
			"ItemFailed" => Some(Fate::Failed(
				match e.decode_fields_as::<lilypad::utility::events::ItemFailed>() {
					Some(Ok(failed)) => format!("{:?}", failed.error),
					_ => "a call of the batch failed".into(),
				},
			)),
			_ => None,
		})
		.collect()
}
