//! SmolLM2's tokenizer, built from the GGUF's vocabulary and merges.
//!
//! The GGUF says only `pre = "smollm"`; what that stands for is SmolLM2's published
//! tokenizer.json (docs/models/smollm2.md): byte-level BPE with no unknown token, no byte
//! fallback and no dropout, pre-tokenized by `Digits(individual_digits)` then
//! `ByteLevel(add_prefix_space = false, trim_offsets = true, use_regex = true)`, with the
//! control tokens as special tokens. `scripts/golden-tokens.py` configures HuggingFace's
//! tokenizer the same way; `golden/tokens.json` holds what it gives.
//!
//! Special tokens are matched only where the caller says so: [`ChatTokenizer::encode_text`]
//! treats `<|im_end|>` in a message as the characters it is made of, so that a user cannot close
//! their own turn and forge another; the chat template's own control tokens go through
//! [`ChatTokenizer::encode_prompt`].
use std::collections::HashMap;

use tokenizers::{
	decoders::byte_level::ByteLevel as ByteLevelDecoder,
	models::bpe::BPE,
	pre_tokenizers::{
		byte_level::ByteLevel, digits::Digits, sequence::Sequence, PreTokenizerWrapper,
	},
	AddedToken, Tokenizer,
};

use crate::template::Part;

/// llama.cpp's token type for control tokens (`tokenizer.ggml.token_type`).
const CONTROL: i32 = 3;

/// What the GGUF says about the tokenizer.
pub struct Vocab {
	/// `tokenizer.ggml.tokens`: each id's string, in the byte-level alphabet.
	pub tokens: Vec<String>,
	/// `tokenizer.ggml.merges`: `"left right"`, highest priority first.
	pub merges: Vec<String>,
	/// `tokenizer.ggml.token_type`, one per token.
	pub types: Vec<i32>,
}

/// The tokenizer and what streaming needs: each token's bytes.
pub struct ChatTokenizer {
	/// Matches no special token in text (`encode_special_tokens` set).
	plain: Tokenizer,
	/// The control tokens, as text and id.
	specials: Vec<(String, u32)>,
	/// Each token's bytes: its text once the byte-level alphabet is undone.
	bytes: Vec<Vec<u8>>,
}

/// GPT-2's byte-level alphabet: each byte as the printable character that stands for it in
/// the vocabulary (`Ġ` is a space, `Ċ` a newline).
fn byte_chars() -> [char; 256] {
	let mut chars = ['\0'; 256];
	let mut next = 256u32;
	for (b, c) in chars.iter_mut().enumerate() {
		let printable = matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
		let code = if printable {
			b as u32
		} else {
			next += 1;
			next - 1
		};
		*c = char::from_u32(code).expect("256..=323 are scalar values; qed");
	}
	chars
}

impl ChatTokenizer {
	/// Builds the tokenizer SmolLM2 was trained with; refuses a vocabulary that does not fit it
	/// (a token outside the byte-level alphabet, a merge of unknown tokens, ids that move).
	pub fn new(vocab: Vocab) -> Result<Self, String> {
		let Vocab { tokens, merges, types } = vocab;
		if types.len() != tokens.len() {
			return Err(format!("{} token types for {} tokens", types.len(), tokens.len()));
		}
		let ids: tokenizers::models::bpe::Vocab =
			tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
		if ids.len() != tokens.len() {
			return Err("the vocabulary holds a token twice".into());
		}
		let merges = merges
			.iter()
			.map(|m| match m.split(' ').collect::<Vec<_>>()[..] {
				[a, b] => Ok((a.to_string(), b.to_string())),
				_ => Err(format!("merge {m:?} is not two symbols")),
			})
			.collect::<Result<Vec<_>, _>>()?;
		let bpe = BPE::builder()
			.vocab_and_merges(ids, merges)
			.fuse_unk(false)
			.byte_fallback(false)
			.ignore_merges(false)
			.build()
			.map_err(|e| format!("BPE: {e}"))?;
		let mut plain = Tokenizer::new(bpe);
		plain.with_pre_tokenizer(Some(Sequence::new(vec![
			PreTokenizerWrapper::Digits(Digits::new(true)),
			PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
		])));
		plain.with_decoder(Some(ByteLevelDecoder::default()));
		let specials: Vec<(String, u32)> = tokens
			.iter()
			.zip(&types)
			.enumerate()
			.filter(|(_, (_, ty))| **ty == CONTROL)
			.map(|(id, (t, _))| (t.clone(), id as u32))
			.collect();
		let added: Vec<AddedToken> =
			specials.iter().map(|(t, _)| AddedToken::from(t.clone(), true)).collect();
		plain.add_special_tokens(added).map_err(|e| format!("special tokens: {e}"))?;
		for (t, id) in &specials {
			if plain.token_to_id(t) != Some(*id) {
				return Err(format!("special token {t} did not keep its id {id}"));
			}
		}
		if plain.get_vocab_size(true) != tokens.len() {
			return Err("adding the special tokens grew the vocabulary".into());
		}
		plain.set_encode_special_tokens(true);

		let alphabet = byte_chars();
		let byte_of: HashMap<char, u8> =
			alphabet.iter().enumerate().map(|(b, c)| (*c, b as u8)).collect();
		let bytes = tokens
			.iter()
			.zip(&types)
			.map(|(t, ty)| {
				if *ty == CONTROL {
					return Ok(t.as_bytes().to_vec());
				}
				t.chars()
					.map(|c| byte_of.get(&c).copied())
					.collect::<Option<Vec<u8>>>()
					.ok_or_else(|| format!("token {t:?} is not in the byte-level alphabet"))
			})
			.collect::<Result<Vec<_>, String>>()?;
		Ok(Self { plain, specials, bytes })
	}

	/// `text` as tokens, special tokens included as plain characters.
	pub fn encode_text(&self, text: &str) -> Result<Vec<u32>, String> {
		if text.is_empty() {
			return Ok(Vec::new());
		}
		let encoding = self.plain.encode(text, false).map_err(|e| format!("tokenize: {e}"))?;
		Ok(encoding.get_ids().to_vec())
	}

	/// `text` as tokens, every control token's text matched as that token: what HuggingFace's
	/// tokenizer gives by default. Only for text that is trusted throughout (tests).
	#[cfg(test)]
	pub fn encode_trusted(&self, text: &str) -> Result<Vec<u32>, String> {
		let mut ids = Vec::new();
		let mut plain = String::new();
		self.split_specials(text, &mut plain, &mut ids)?;
		ids.extend(self.encode_text(&plain)?);
		Ok(ids)
	}

	/// A rendered prompt as tokens: control tokens in the template's own text become their ids;
	/// message contents are plain text, whatever they hold. Text on either side of a boundary
	/// between template and content is tokenized together, as it is when the whole prompt is
	/// tokenized at once.
	pub fn encode_prompt(&self, parts: &[Part]) -> Result<Vec<u32>, String> {
		let mut ids = Vec::new();
		let mut plain = String::new();
		for part in parts {
			match part {
				Part::Template(text) => self.split_specials(text, &mut plain, &mut ids)?,
				Part::Content(text) => plain.push_str(text),
			}
		}
		ids.extend(self.encode_text(&plain)?);
		Ok(ids)
	}

	/// Appends `text` to `plain` up to each control token in it; at each, the pending plain
	/// text is tokenized into `ids`, then the token's id follows. Leftmost, and longest among
	/// those starting at one place, as HuggingFace's added-token matching.
	fn split_specials(
		&self,
		mut text: &str,
		plain: &mut String,
		ids: &mut Vec<u32>,
	) -> Result<(), String> {
		loop {
			let next = self
				.specials
				.iter()
				.filter_map(|(s, id)| text.find(s.as_str()).map(|at| (at, s.len(), *id)))
				.min_by_key(|(at, len, _)| (*at, usize::MAX - len));
			let Some((at, len, id)) = next else {
				plain.push_str(text);
				return Ok(());
			};
			plain.push_str(&text[..at]);
			ids.extend(self.encode_text(plain)?);
			plain.clear();
			ids.push(id);
			text = &text[at + len..];
		}
	}

	/// The id of the control token spelt `text`.
	pub fn special_id(&self, text: &str) -> Option<u32> {
		self.specials.iter().find(|(s, _)| s == text).map(|(_, id)| *id)
	}

	/// The bytes token `id` stands for (a control token: its text).
	pub fn token_bytes(&self, id: u32) -> &[u8] {
		self.bytes.get(id as usize).map(Vec::as_slice).unwrap_or_default()
	}

	/// How many tokens there are.
	pub fn vocab_size(&self) -> usize {
		self.bytes.len()
	}

	/// The tokenizer as HuggingFace's default configuration has it, special tokens matched in
	/// any text: to check [`Self::encode_trusted`] against.
	#[cfg(test)]
	pub fn huggingface(&self) -> Tokenizer {
		let mut t = self.plain.clone();
		t.set_encode_special_tokens(false);
		t
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_byte_alphabet_is_gpt2s() {
		let chars = byte_chars();
		assert_eq!(chars[b' ' as usize], 'Ġ');
		assert_eq!(chars[b'\n' as usize], 'Ċ');
		assert_eq!(chars[b'a' as usize], 'a');
		assert_eq!(chars[0], 'Ā');
		assert_eq!(chars[0xad], 'Ń');
		let distinct: std::collections::HashSet<char> = chars.iter().copied().collect();
		assert_eq!(distinct.len(), 256);
	}
}
