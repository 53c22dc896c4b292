//! One solver round over markets of growing size (jobs × offers):
//! `cargo bench -p lilypad-offchain --bench matching` (figures in BENCHMARKS.md).
extern crate alloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lilypad_offchain::matching::{assign, OpenJob, Params, Provider, NEUTRAL_REPUTATION};
use std::{hint::black_box, time::Duration};

#[path = "../src/matching/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

fn rounds(c: &mut Criterion) {
	let mut group = c.benchmark_group("solver round");
	group.sample_size(10).measurement_time(Duration::from_secs(10));
	for (jobs, offers) in [(1_000, 100), (5_000, 500), (10_000, 1_000)] {
		let (open, providers) = fixtures::market(jobs, offers, 42);
		let pairs = assign(&open, &providers, &fixtures::params()).len();
		println!("{jobs} jobs x {offers} offers: {pairs} pairs per round");
		group.bench_with_input(
			BenchmarkId::from_parameter(format!("{jobs}x{offers}")),
			&(open, providers),
			|b, (open, providers)| {
				b.iter(|| assign(black_box(open), providers, &fixtures::params()))
			},
		);
	}
	group.finish();
}

criterion_group!(benches, rounds);
criterion_main!(benches);
