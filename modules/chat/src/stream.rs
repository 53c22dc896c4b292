//! Turning tokens into text as they come: what each token lets out.
//!
//! A token is a run of bytes, and a character may span tokens (an emoji is often two or three),
//! so bytes that do not yet end a UTF-8 character wait for the next token. Text that could
//! still turn out to start a stop string waits too, until it either completes one (it is never
//! let out, and generation ends there) or cannot. What is let out, concatenated, is the
//! completion's text.

/// How a token left the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
	/// This text (possibly empty) is final; generation may go on.
	Text(String),
	/// A stop string was completed: this text precedes it, and nothing more comes.
	Stop(String),
}

/// The text decoder for one completion.
pub struct Stream {
	stops: Vec<String>,
	/// Bytes of an unfinished UTF-8 character.
	partial: Vec<u8>,
	/// Decoded text not let out yet: it might start a stop string.
	held: String,
}

impl Stream {
	/// A stream that ends at any of `stops` (none empty).
	pub fn new(stops: Vec<String>) -> Self {
		debug_assert!(stops.iter().all(|s| !s.is_empty()));
		Self { stops, partial: Vec::new(), held: String::new() }
	}

	/// Takes the next token's bytes.
	pub fn push(&mut self, bytes: &[u8]) -> Step {
		self.partial.extend_from_slice(bytes);
		let complete = complete_utf8(&self.partial);
		let decoded = String::from_utf8_lossy(&self.partial[..complete]).into_owned();
		self.partial.drain(..complete);
		self.held.push_str(&decoded);
		// The earliest stop string found wins; nothing held can start one before `held`
		// (what could was held back).
		if let Some(at) = self.stops.iter().filter_map(|s| self.held.find(s.as_str())).min() {
			let text = self.held[..at].to_string();
			self.held.clear();
			return Step::Stop(text);
		}
		let keep = self.stop_prefix_len();
		let text = self.held[..self.held.len() - keep].to_string();
		self.held.drain(..self.held.len() - keep);
		Step::Text(text)
	}

	/// Everything still held, once no token follows: an unfinished character becomes U+FFFD.
	pub fn finish(&mut self) -> String {
		let mut text = std::mem::take(&mut self.held);
		text.push_str(&String::from_utf8_lossy(&self.partial));
		self.partial.clear();
		text
	}

	/// The length of the longest end of `held` that begins some stop string.
	fn stop_prefix_len(&self) -> usize {
		let held = self.held.as_str();
		let longest = self.stops.iter().map(|s| s.len() - 1).max().unwrap_or(0);
		(1..=held.len().min(longest))
			.rev()
			.filter(|k| held.is_char_boundary(held.len() - k))
			.find(|k| {
				self.stops.iter().any(|s| s.len() > *k && s.starts_with(&held[held.len() - k..]))
			})
			.unwrap_or(0)
	}
}

/// How many leading bytes of `bytes` are complete characters (or bytes no character could
/// start with, which decode as U+FFFD at once); the rest may be finished by the next token.
fn complete_utf8(bytes: &[u8]) -> usize {
	// A character is at most 4 bytes: only the last 3 can be an unfinished one.
	for back in 1..=bytes.len().min(3) {
		let at = bytes.len() - back;
		let lead = bytes[at];
		let width = match lead {
			0x00..=0x7f => return bytes.len(),
			0x80..=0xbf => continue,
			0xc2..=0xdf => 2,
			0xe0..=0xef => 3,
			0xf0..=0xf4 => 4,
			_ => return bytes.len(),
		};
		// A lead byte with fewer continuation bytes than it needs, all valid so far, waits.
		let valid_so_far = std::str::from_utf8(&bytes[at..])
			.err()
			.is_some_and(|e| e.valid_up_to() == 0 && e.error_len().is_none());
		return if back < width && valid_so_far { at } else { bytes.len() };
	}
	bytes.len()
}

#[cfg(test)]
mod tests {
	use super::*;

	fn stream(stops: &[&str]) -> Stream {
		Stream::new(stops.iter().map(|s| s.to_string()).collect())
	}

	fn text(s: &str) -> Step {
		Step::Text(s.into())
	}

	#[test]
	fn plain_text_is_let_out_at_once() {
		let mut s = stream(&[]);
		assert_eq!(s.push(b"Hello"), text("Hello"));
		assert_eq!(s.push(b", world"), text(", world"));
		assert_eq!(s.finish(), "");
	}

	#[test]
	fn a_character_split_across_tokens_waits_for_its_last_byte() {
		let mut s = stream(&[]);
		let crab = "🦀".as_bytes(); // f0 9f a6 80
		assert_eq!(s.push(b"a"), text("a"));
		assert_eq!(s.push(&crab[..1]), text(""));
		assert_eq!(s.push(&crab[1..3]), text(""));
		assert_eq!(s.push(&[crab[3], b'!']), text("🦀!"));
		let e = "é".as_bytes();
		assert_eq!(s.push(&[b'x', e[0]]), text("x"));
		assert_eq!(s.push(&e[1..]), text("é"));
	}

	#[test]
	fn bytes_that_cannot_become_a_character_are_replaced_at_once() {
		let mut s = stream(&[]);
		// A stray continuation byte, and a lead byte followed by a non-continuation.
		assert_eq!(s.push(&[0x80]), text("\u{FFFD}"));
		assert_eq!(s.push(&[0xe2, b'a']), text("\u{FFFD}a"));
		assert_eq!(s.push(&[0xc0]), text("\u{FFFD}"));
	}

	#[test]
	fn an_unfinished_character_at_the_end_becomes_a_replacement_character() {
		let mut s = stream(&[]);
		assert_eq!(s.push(&"€".as_bytes()[..2]), text(""));
		assert_eq!(s.finish(), "\u{FFFD}");
	}

	#[test]
	fn text_that_may_start_a_stop_string_is_held_until_it_cannot() {
		let mut s = stream(&["\nUser:"]);
		assert_eq!(s.push(b"Sure"), text("Sure"));
		assert_eq!(s.push(b".\n"), text("."));
		assert_eq!(s.push(b"Us"), text(""));
		assert_eq!(s.push(b"ually"), text("\nUsually"));
	}

	#[test]
	fn a_stop_string_ends_the_stream_and_is_never_let_out() {
		let mut s = stream(&["\nUser:"]);
		assert_eq!(s.push(b"Done.\nUs"), text("Done."));
		assert_eq!(s.push(b"er: next"), Step::Stop("".into()));
		let mut s = stream(&["END"]);
		assert_eq!(s.push(b"abcENDdef"), Step::Stop("abc".into()));
	}

	#[test]
	fn the_earliest_of_several_stop_strings_wins() {
		let mut s = stream(&["cd", "bcde"]);
		assert_eq!(s.push(b"a"), text("a"));
		assert_eq!(s.push(b"b"), text(""));
		assert_eq!(s.push(b"cdef"), Step::Stop("".into()));
		let mut s = stream(&["xyz", "b"]);
		assert_eq!(s.push(b"axyzb"), Step::Stop("a".into()));
	}

	#[test]
	fn held_text_is_let_out_when_the_stream_ends_otherwise() {
		let mut s = stream(&["###"]);
		assert_eq!(s.push(b"one #"), text("one "));
		assert_eq!(s.push(b"#"), text(""));
		assert_eq!(s.finish(), "##");
	}

	#[test]
	fn a_held_character_goes_out_with_what_follows_it() {
		// "é" is held: it may begin the stop string "éa".
		let mut s = stream(&["éa"]);
		assert_eq!(s.push("cafe\u{301} é".as_bytes()), text("cafe\u{301} "));
		assert_eq!(s.push(b"b"), text("éb"));
		assert_eq!(s.push("é".as_bytes()), text(""));
		assert_eq!(s.push(b"a"), Step::Stop("".into()));
	}

	#[test]
	fn what_is_let_out_is_the_whole_text_less_the_stop() {
		let pieces: [&[u8]; 6] =
			[b"The ", b"answer", &[0xf0, 0x9f], &[0x98, 0x80], b" is\n\n", b"Q"];
		let mut s = stream(&["\n\nQ:"]);
		let mut out = String::new();
		for p in pieces {
			match s.push(p) {
				Step::Text(t) => out.push_str(&t),
				Step::Stop(t) => {
					out.push_str(&t);
					break;
				}
			}
		}
		out.push_str(&s.finish());
		assert_eq!(out, "The answer😀 is\n\nQ");
	}
}
