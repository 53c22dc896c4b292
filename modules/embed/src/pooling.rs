//! From the model's token vectors to a text's embedding, as sentence-transformers' `Pooling`
//! (mean over the tokens the attention mask keeps) and `Normalize` (to unit length) modules do.
//!
//! One text at a time, every token is kept: the mean is over all of them, `[CLS]` and `[SEP]`
//! included, as the reference's mask has them. The sums run in `f64` in token order, so the
//! result is a function of the token vectors alone, and rounds to `f32` once, at the end.

/// The mean of `tokens` (one row per token, each `dimensions` long), scaled to length 1.
pub fn mean_normalized(tokens: &[Vec<f32>], dimensions: usize) -> Result<Vec<f32>, String> {
	if tokens.is_empty() {
		return Err("no token to pool".into());
	}
	let mut sum = vec![0f64; dimensions];
	for (i, row) in tokens.iter().enumerate() {
		if row.len() != dimensions {
			return Err(format!("token {i} has {} dimensions, not {dimensions}", row.len()));
		}
		for (s, x) in sum.iter_mut().zip(row) {
			*s += f64::from(*x);
		}
	}
	let count = tokens.len() as f64;
	let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
	// torch.nn.functional.normalize: divided by the norm, or by 1e-12 if that is smaller.
	let norm = mean.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
	Ok(mean.iter().map(|x| (x / norm) as f32).collect())
}

/// The cosine of the angle between two embeddings of length 1: their dot product.
#[cfg(test)]
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
	a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_mean_of_the_tokens_scaled_to_length_one() {
		let tokens = vec![vec![1.0, 2.0, 0.0], vec![3.0, 2.0, 0.0]];
		// The mean is (2, 2, 0), of length 2√2.
		let e = mean_normalized(&tokens, 3).unwrap();
		let h = std::f32::consts::FRAC_1_SQRT_2;
		assert_eq!(e, [h, h, 0.0]);
		assert!((cosine(&e, &e) - 1.0).abs() < 1e-7);
	}

	#[test]
	fn a_zero_mean_stays_zero() {
		let e = mean_normalized(&[vec![1.0, -1.0], vec![-1.0, 1.0]], 2).unwrap();
		assert_eq!(e, [0.0, 0.0]);
	}

	#[test]
	fn rows_must_fit() {
		assert!(mean_normalized(&[], 2).unwrap_err().contains("no token"));
		let err = mean_normalized(&[vec![1.0, 2.0], vec![1.0]], 2).unwrap_err();
		assert_eq!(err, "token 1 has 1 dimensions, not 2");
	}
}
