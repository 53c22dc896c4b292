//! Jobs' stdout, live, for their creators: what a running module writes is kept per job and
//! relayed as server-sent events to every subscriber the job's creator signed for (the wire
//! format: [`lilypad_client::live`]). A subscriber gets everything from the start, then each
//! line as it is written. A finished run's output stays for late subscribers while it fits
//! [`LiveOutputs`]' budget.
//!
//! A job's live output holds at most what its run keeps of stdout (the output cap), and only
//! jobs assigned to this provider get one, so what this holds is bounded by the job slots plus
//! the budget for finished runs.
use std::{
	collections::{HashMap, VecDeque},
	convert::Infallible,
	sync::{Arc, Mutex, OnceLock},
};

use axum::{
	body::Body,
	extract::{Path as UrlPath, State},
	http::{header, HeaderMap, StatusCode},
	response::{IntoResponse, Response},
	routing::get,
	Router,
};
use futures::StreamExt;
use lilypad_client::live::{self, Authorization, End, Event, STREAM_ROUTE};
use lilypad_primitives::jobs::JobId;
use subxt::utils::AccountId32;
use tokio::sync::watch;

use crate::executor::StdoutTap;

/// Finished runs kept for late subscribers, at most.
const KEEP_FINISHED: usize = 64;

/// The live outputs of this agent's jobs.
pub struct LiveOutputs {
	inner: Mutex<Inner>,
	/// Bytes of finished runs' output kept, at most.
	keep_bytes: usize,
}

#[derive(Default)]
struct Inner {
	jobs: HashMap<JobId, Arc<Live>>,
	/// Finished jobs, oldest first: the first to go.
	finished: VecDeque<JobId>,
}

impl LiveOutputs {
	/// Keeps finished runs' output up to `keep_bytes` in all.
	pub fn new(keep_bytes: usize) -> Self {
		Self { inner: Mutex::default(), keep_bytes }
	}

	/// The live output of `job`, made if there is none yet.
	pub fn open(&self, job: JobId) -> Arc<Live> {
		self.lock().jobs.entry(job).or_insert_with(|| Arc::new(Live::new())).clone()
	}

	/// The live output of `job`, if there is one.
	pub fn get(&self, job: JobId) -> Option<Arc<Live>> {
		self.lock().jobs.get(&job).cloned()
	}

	/// Ends `job`'s run and lets the oldest finished runs go while over the budget.
	pub fn finish(&self, job: JobId, outcome: String) {
		let mut inner = self.lock();
		let Some(live) = inner.jobs.get(&job).cloned() else { return };
		live.end(outcome);
		inner.finished.retain(|j| *j != job);
		inner.finished.push_back(job);
		let mut kept: usize =
			inner.finished.iter().filter_map(|j| inner.jobs.get(j)).map(|l| l.len()).sum();
		while inner.finished.len() > KEEP_FINISHED || kept > self.keep_bytes {
			let Some(oldest) = inner.finished.pop_front() else { break };
			if let Some(gone) = inner.jobs.remove(&oldest) {
				kept -= gone.len();
			}
		}
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
		self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
	}
}

/// One job's output so far.
pub struct Live {
	state: Mutex<Output>,
	/// Bumped on every change, so that subscribers wake.
	changed: watch::Sender<u64>,
}

#[derive(Default)]
struct Output {
	stdout: Vec<u8>,
	/// Which run the output is from: a run started over after a failure of the host's
	/// replaces what the one before wrote.
	run: u32,
	end: Option<String>,
}

impl Live {
	fn new() -> Self {
		Self { state: Mutex::default(), changed: watch::channel(0).0 }
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, Output> {
		self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
	}

	fn len(&self) -> usize {
		self.lock().stdout.len()
	}

	fn touch(&self) {
		self.changed.send_modify(|n| *n += 1);
	}

	/// A tap for a new run of the job: what an earlier run wrote is dropped, and what that
	/// run's tap still sends is ignored.
	pub fn start_run(self: &Arc<Self>) -> StdoutTap {
		let run = {
			let mut state = self.lock();
			state.run += 1;
			state.stdout.clear();
			state.end = None;
			state.run
		};
		self.touch();
		let (tap, mut chunks) = tokio::sync::mpsc::unbounded_channel::<bytes::Bytes>();
		let live = self.clone();
		tokio::spawn(async move {
			while let Some(chunk) = chunks.recv().await {
				let mut state = live.lock();
				if state.run != run {
					return;
				}
				state.stdout.extend_from_slice(&chunk);
				drop(state);
				live.touch();
			}
		});
		tap
	}

	fn end(&self, outcome: String) {
		self.lock().end = Some(outcome);
		self.touch();
	}

	/// The events after `seen` bytes of run `run`, and where that leaves the reader: complete
	/// lines only, and the rest once the run has ended.
	fn events_after(&self, run: &mut u32, seen: &mut usize) -> (Vec<Event>, bool) {
		let state = self.lock();
		let mut events = Vec::new();
		if state.run != *run {
			if *seen > 0 {
				events.push(Event::Restart);
			}
			*run = state.run;
			*seen = 0;
		}
		let fresh = &state.stdout[*seen..];
		let complete = fresh.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
		let take = if state.end.is_some() { fresh.len() } else { complete };
		let mut lines = fresh[..take].split(|b| *b == b'\n').collect::<Vec<_>>();
		if take == complete {
			// The empty piece after the last `\n`.
			lines.pop();
		}
		events.extend(lines.into_iter().map(|l| Event::Line(String::from_utf8_lossy(l).into())));
		*seen += take;
		let ended = match &state.end {
			Some(outcome) => {
				let end = End { outcome: outcome.clone(), stdout_bytes: state.stdout.len() as u64 };
				events.push(Event::End(end));
				true
			}
			None => false,
		};
		(events, ended)
	}

	/// Every event from the start, then each as it happens, until the run ends.
	pub fn subscribe(self: Arc<Self>) -> impl futures::Stream<Item = Event> {
		let changes = self.changed.subscribe();
		let reader = (self, changes, 0u32, 0usize, false);
		futures::stream::unfold(reader, |(live, mut changes, mut run, mut seen, done)| async move {
			if done {
				return None;
			}
			loop {
				changes.borrow_and_update();
				let (events, ended) = live.events_after(&mut run, &mut seen);
				if !events.is_empty() {
					let batch = futures::stream::iter(events);
					return Some((batch, (live, changes, run, seen, ended)));
				}
				if changes.changed().await.is_err() {
					return None;
				}
			}
		})
		.flatten()
	}
}

/// What the stream route answers from: the live outputs and, once connected, the chain.
#[derive(Clone)]
pub struct LiveApi {
	pub outputs: Arc<LiveOutputs>,
	/// The chain and this provider's account, set once the agent is connected.
	pub chain: Arc<OnceLock<(lilypad_client::chain::Chain, AccountId32)>>,
}

impl LiveApi {
	/// `GET /jobs/<id>/stream`.
	pub fn router(self) -> Router {
		Router::new().route(STREAM_ROUTE, get(stream)).with_state(self)
	}
}

/// Answers the job's creator, and only them, while the job is assigned to this provider or
/// its finished run is still kept here.
async fn stream(
	State(api): State<LiveApi>,
	UrlPath(job): UrlPath<JobId>,
	headers: HeaderMap,
) -> Response {
	let Some((chain, provider)) = api.chain.get() else {
		return (StatusCode::SERVICE_UNAVAILABLE, "not connected to the chain yet").into_response();
	};
	let auth = headers
		.get(header::AUTHORIZATION)
		.and_then(|h| h.to_str().ok())
		.ok_or(live::Refusal::Malformed)
		.and_then(Authorization::parse)
		.and_then(|auth| {
			auth.verify(&chain.genesis, job, &provider.0, live::unix_now()).map(|()| auth)
		});
	let auth = match auth {
		Ok(auth) => auth,
		Err(refusal) => return (StatusCode::UNAUTHORIZED, refusal.to_string()).into_response(),
	};
	let record = match chain.stored_job(job).await {
		Ok(Some(record)) => record,
		Ok(None) => return (StatusCode::NOT_FOUND, format!("no job {job}")).into_response(),
		Err(e) => {
			return (StatusCode::SERVICE_UNAVAILABLE, format!("reading the chain: {e:#}"))
				.into_response()
		}
	};
	if record.creator.0 != auth.signer {
		return (StatusCode::FORBIDDEN, format!("only job {job}'s creator may follow its output"))
			.into_response();
	}
	let live = match api.outputs.get(job) {
		Some(live) => live,
		// Assigned here and not run yet: the subscriber waits for the run.
		None if record.awaits_result_from(provider) => api.outputs.open(job),
		None => {
			return (StatusCode::NOT_FOUND, format!("job {job} has no output live here"))
				.into_response()
		}
	};
	let body =
		live.subscribe().map(|event| Ok::<_, Infallible>(bytes::Bytes::from(event.to_sse())));
	(
		[(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-store")],
		Body::from_stream(body),
	)
		.into_response()
}

#[cfg(test)]
mod tests {
	use super::*;

	async fn collect(live: Arc<Live>) -> Vec<Event> {
		live.subscribe().collect().await
	}

	fn line(s: &str) -> Event {
		Event::Line(s.into())
	}

	#[tokio::test]
	async fn subscribers_get_lines_as_written_and_late_ones_a_replay() {
		let outputs = LiveOutputs::new(1 << 20);
		let live = outputs.open(1);
		let early = tokio::spawn(collect(live.clone()));
		let tap = live.start_run();
		tap.send("a\nb".into()).unwrap();
		tap.send("c\n".into()).unwrap();
		tap.send("tail".into()).unwrap();
		drop(tap);
		// The tap's chunks are taken in order by its task; the end comes after them.
		while live.len() < 9 {
			tokio::task::yield_now().await;
		}
		outputs.finish(1, "success".into());
		let end = Event::End(End { outcome: "success".into(), stdout_bytes: 9 });
		let expected = vec![line("a"), line("bc"), line("tail"), end];
		assert_eq!(early.await.unwrap(), expected);
		let late = collect(outputs.get(1).expect("kept for late subscribers")).await;
		assert_eq!(late, expected);
	}

	#[tokio::test]
	async fn a_restarted_run_voids_what_came_before() {
		let outputs = LiveOutputs::new(1 << 20);
		let live = outputs.open(1);
		let first = live.start_run();
		first.send("old\n".into()).unwrap();
		while live.len() < 4 {
			tokio::task::yield_now().await;
		}
		let mut events = Box::pin(live.clone().subscribe());
		assert_eq!(events.next().await, Some(line("old")));
		let second = live.start_run();
		// What the first run's tap still sends is ignored.
		first.send("stale\n".into()).unwrap();
		second.send("new\n".into()).unwrap();
		while live.len() < 4 {
			tokio::task::yield_now().await;
		}
		outputs.finish(1, "success".into());
		assert_eq!(events.next().await, Some(Event::Restart));
		assert_eq!(events.next().await, Some(line("new")));
		assert!(matches!(events.next().await, Some(Event::End(_))));
		assert_eq!(events.next().await, None);
	}

	#[test]
	fn finished_runs_go_oldest_first_beyond_the_budget() {
		let outputs = LiveOutputs::new(10);
		for job in 0..3 {
			let live = outputs.open(job);
			live.lock().stdout = vec![b'x'; 6];
			outputs.finish(job, "success".into());
		}
		assert!(outputs.get(0).is_none() && outputs.get(1).is_none());
		assert!(outputs.get(2).is_some());
		// A running job is never let go.
		let running = outputs.open(7);
		running.lock().stdout = vec![b'x'; 100];
		outputs.finish(2, "success".into());
		assert!(outputs.get(7).is_some());
	}
}
