//! The agent's Prometheus metrics, served at `GET /metrics` beside the content store: jobs
//! running, done and failed by engine, mediations answered, earnings and the heartbeat's age.
use std::{
	sync::{atomic::AtomicU64, Mutex},
	time::Instant,
};

use prometheus_client::{
	encoding::{text::encode, EncodeLabelSet, EncodeLabelValue},
	metrics::{counter::Counter, family::Family, gauge::Gauge},
	registry::Registry,
};

/// What ran a job.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum Engine {
	Wasm,
	Docker,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabel {
	engine: Engine,
}

/// Every metric the agent keeps.
pub struct Metrics {
	registry: Registry,
	running: Family<EngineLabel, Gauge>,
	done: Family<EngineLabel, Counter>,
	failed: Family<EngineLabel, Counter>,
	mediations: Family<EngineLabel, Counter>,
	earnings: Counter<f64, AtomicU64>,
	heartbeat_age: Gauge<f64, AtomicU64>,
	last_heartbeat: Mutex<Option<Instant>>,
	started: Instant,
}

impl Default for Metrics {
	fn default() -> Self {
		let mut registry = Registry::with_prefix("lilypad_rp");
		let running = Family::<EngineLabel, Gauge>::default();
		let done = Family::<EngineLabel, Counter>::default();
		let failed = Family::<EngineLabel, Counter>::default();
		let mediations = Family::<EngineLabel, Counter>::default();
		let earnings = Counter::<f64, AtomicU64>::default();
		let heartbeat_age = Gauge::<f64, AtomicU64>::default();
		registry.register("jobs_running", "Jobs executing now", running.clone());
		registry.register(
			"jobs_done",
			"Jobs whose result (a successful run) is on chain",
			done.clone(),
		);
		registry.register(
			"jobs_failed",
			"Jobs whose module failed, ran out of time or memory, or that the agent gave up",
			failed.clone(),
		);
		registry.register(
			"mediations",
			"Jobs re-run as this agent's mediation of them",
			mediations.clone(),
		);
		registry.register(
			"earnings_lily",
			"LILY paid to this provider for completed jobs since the agent started",
			earnings.clone(),
		);
		registry.register(
			"heartbeat_age_seconds",
			"Seconds since the last heartbeat reached the chain (since start if none did)",
			heartbeat_age.clone(),
		);
		for engine in [Engine::Wasm, Engine::Docker] {
			let l = EngineLabel { engine };
			let _ = running.get_or_create(&l);
			let _ = done.get_or_create(&l);
			let _ = failed.get_or_create(&l);
			let _ = mediations.get_or_create(&l);
		}
		Self {
			registry,
			running,
			done,
			failed,
			mediations,
			earnings,
			heartbeat_age,
			last_heartbeat: Mutex::new(None),
			started: Instant::now(),
		}
	}
}

/// Counts a job as running while it lives.
pub struct Running<'a>(&'a Metrics, Engine);

impl Drop for Running<'_> {
	fn drop(&mut self) {
		self.0.running.get_or_create(&EngineLabel { engine: self.1 }).dec();
	}
}

impl Metrics {
	pub fn running(&self, engine: Engine) -> Running<'_> {
		self.running.get_or_create(&EngineLabel { engine }).inc();
		Running(self, engine)
	}

	pub fn done(&self, engine: Engine) {
		self.done.get_or_create(&EngineLabel { engine }).inc();
	}

	pub fn failed(&self, engine: Engine) {
		self.failed.get_or_create(&EngineLabel { engine }).inc();
	}

	pub fn mediated(&self, engine: Engine) {
		self.mediations.get_or_create(&EngineLabel { engine }).inc();
	}

	/// Adds `planck` to the earnings.
	pub fn earned(&self, planck: u128) {
		self.earnings.inc_by(planck as f64 / crate::config::LILY as f64);
	}

	pub fn heartbeat_sent(&self) {
		*self.last_heartbeat.lock().expect("lock") = Some(Instant::now());
	}

	/// The metrics in Prometheus' text format.
	pub fn render(&self) -> String {
		let since = self.last_heartbeat.lock().expect("lock").unwrap_or(self.started);
		self.heartbeat_age.set(since.elapsed().as_secs_f64());
		let mut out = String::new();
		encode(&mut out, &self.registry).expect("writing to a String cannot fail");
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn renders_jobs_by_engine_earnings_and_heartbeat_age() {
		let m = Metrics::default();
		{
			let _running = m.running(Engine::Docker);
			assert!(m.render().contains("lilypad_rp_jobs_running{engine=\"Docker\"} 1"));
			m.done(Engine::Docker);
		}
		m.failed(Engine::Wasm);
		m.earned(2_500_000_000_000);
		let text = m.render();
		assert!(text.contains("lilypad_rp_jobs_running{engine=\"Docker\"} 0"), "{text}");
		assert!(text.contains("lilypad_rp_jobs_done_total{engine=\"Docker\"} 1"), "{text}");
		assert!(text.contains("lilypad_rp_jobs_done_total{engine=\"Wasm\"} 0"), "{text}");
		assert!(text.contains("lilypad_rp_jobs_failed_total{engine=\"Wasm\"} 1"), "{text}");
		assert!(text.contains("lilypad_rp_earnings_lily_total 2.5"), "{text}");
		assert!(text.contains("lilypad_rp_heartbeat_age_seconds "), "{text}");
	}
}
