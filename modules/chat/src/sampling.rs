//! Choosing each next token: greedy at temperature 0, otherwise drawn from the model's
//! distribution (cut to its top-p nucleus) with a generator seeded from the job's `seed`, so
//! that a run is a function of its inputs.
use candle_transformers::generation::{LogitsProcessor, Sampling};

/// How to choose tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplingParams {
	/// 0 picks the likeliest token; higher flattens the distribution.
	pub temperature: f64,
	/// Draw only among the likeliest tokens whose probabilities add up to this; 1 is all.
	pub top_p: f64,
	pub seed: u64,
}

impl SamplingParams {
	/// Refuses values that do not make a distribution.
	pub fn check(&self) -> Result<(), String> {
		if !(self.temperature.is_finite() && self.temperature >= 0.0) {
			return Err(format!("temperature {} is not a number >= 0", self.temperature));
		}
		if !(self.top_p > 0.0 && self.top_p <= 1.0) {
			return Err(format!("top_p {} is not in (0, 1]", self.top_p));
		}
		Ok(())
	}

	/// candle's sampler for these settings (ChaCha from the seed: the same draws everywhere).
	pub fn processor(&self) -> LogitsProcessor {
		let Self { temperature, top_p: p, seed } = *self;
		let sampling = if temperature == 0.0 {
			Sampling::ArgMax
		} else if p < 1.0 {
			Sampling::TopP { p, temperature }
		} else {
			Sampling::All { temperature }
		};
		LogitsProcessor::from_sampling(seed, sampling)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use candle_core::{Device, Tensor};

	fn params(temperature: f64, top_p: f64, seed: u64) -> SamplingParams {
		SamplingParams { temperature, top_p, seed }
	}

	fn draws(p: SamplingParams, n: usize) -> Vec<u32> {
		let logits = Tensor::new(&[1.0f32, 1.2, 0.8, 1.1, 0.3], &Device::Cpu).unwrap();
		let mut proc = p.processor();
		(0..n).map(|_| proc.sample(&logits).unwrap()).collect()
	}

	#[test]
	fn temperature_zero_is_greedy() {
		assert_eq!(draws(params(0.0, 1.0, 7), 5), [1; 5]);
		assert_eq!(draws(params(0.0, 0.5, 8), 5), [1; 5]);
	}

	#[test]
	fn the_same_seed_draws_the_same_tokens() {
		let p = params(1.0, 1.0, 42);
		let a = draws(p, 64);
		assert_eq!(a, draws(p, 64));
		assert_ne!(a, draws(params(1.0, 1.0, 43), 64));
		assert!(a.iter().collect::<std::collections::HashSet<_>>().len() > 1);
	}

	#[test]
	fn a_small_top_p_keeps_only_the_likeliest() {
		assert_eq!(draws(params(1.0, 0.01, 3), 32), [1; 32]);
	}

	#[test]
	fn nonsense_settings_are_refused() {
		assert!(params(-0.1, 1.0, 0).check().is_err());
		assert!(params(f64::NAN, 1.0, 0).check().is_err());
		assert!(params(0.7, 0.0, 0).check().is_err());
		assert!(params(0.7, 1.5, 0).check().is_err());
		assert!(params(0.7, 0.9, 0).check().is_ok());
	}
}
