//! `numeric`: float-heavy work whose result must be bit-identical wherever it runs, so that a
//! mediator's re-run reproduces the provider's output digest.
//!
//! Input `--rounds=<n>` (an argument): `n` rounds of a logistic map, square roots and a
//! deliberate `0/0` NaN folded into a checksum. Writes `/outputs/result.txt` with the rounds,
//! the final value's bits and the checksum. The work grows linearly with `n`, so a large `n`
//! makes a long-running job.
use std::{fs, process::ExitCode};

fn run(rounds: u64) -> (f64, u64) {
	let mut x = 0.123_456_789_f64;
	let mut checksum = 0u64;
	for i in 0..rounds {
		x = 3.999 * x * (1.0 - x);
		let y = (x + i as f64).sqrt();
		// A NaN on every 1024th round: its bits depend on the engine unless NaNs are canonical.
		let z = if i % 1024 == 0 { (y - y) / (y - y) } else { y };
		checksum = checksum.rotate_left(7) ^ z.to_bits();
	}
	(x, checksum)
}

fn main() -> ExitCode {
	let rounds = std::env::args()
		.skip(1)
		.find_map(|a| a.strip_prefix("--rounds=").map(str::to_owned))
		.unwrap_or_else(|| "1000".into());
	let Ok(rounds) = rounds.parse::<u64>() else {
		eprintln!("numeric: --rounds must be a non-negative integer, got {rounds:?}");
		return ExitCode::from(2);
	};
	let (x, checksum) = run(rounds);
	let result =
		format!("rounds={rounds}\nx_bits={:016x}\nchecksum={checksum:016x}\n", x.to_bits());
	print!("{result}");
	if let Err(e) = fs::write("/outputs/result.txt", &result) {
		eprintln!("numeric: cannot write /outputs/result.txt: {e}");
		return ExitCode::from(1);
	}
	ExitCode::SUCCESS
}
