//! A running job's stdout, live: the provider's agent relays what the module writes, as it
//! writes it, to the job's creator, `GET <endpoint>/jobs/<id>/stream` as server-sent events
//! (docs/design.md §8). It answers only a request its creator signed, and a late subscriber
//! gets everything from the start. The stream is a preview: the stdout archived and digested
//! in the job's result stays the record.
//!
//! Events, each one line of stdout or a change of the run:
//! - `line`: a line of stdout without its `\n` (as UTF-8, invalid bytes replaced); the last
//!   line of a run that does not end in `\n` comes when the run ends;
//! - `restart`: the run started over after a failure of the host's, so what came before is void;
//! - `end`: the run ended; its data is a JSON object ([`End`]).
//!
//! The request's `Authorization` header is `Lilypad signer=<hex>,at=<unix seconds>,
//! signature=<hex>`: the creator's sr25519 signature of [`request_message`], which names the
//! chain, the job, the provider and the time, so that it is good for one job, at one provider,
//! for [`MAX_CLOCK_SKEW_SECS`] either side of `at`.
use anyhow::{bail, Context};
use futures::{Stream, StreamExt};
use lilypad_primitives::jobs::JobId;
use subxt_signer::sr25519::{self, Keypair};

/// The agent's route for a job's live stdout (axum's syntax), relative to its endpoint.
pub const STREAM_ROUTE: &str = "/jobs/{job}/stream";
/// How far a request's `at` may be from the agent's clock, in seconds.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;
/// The scheme of the `Authorization` header.
const SCHEME: &str = "Lilypad";
/// What a signed request starts with: it signs nothing else.
const DOMAIN: &[u8] = b"lilypad/live-stdout/v1";

/// The URL of job `job`'s live stdout at the agent `endpoint`.
pub fn stream_url(endpoint: &str, job: JobId) -> String {
	format!("{}/jobs/{job}/stream", endpoint.trim_end_matches('/'))
}

/// The bytes a job's creator signs to follow `job`'s stdout at `provider` on the chain
/// `genesis`, at `at` (unix seconds).
pub fn request_message(genesis: &[u8; 32], job: JobId, provider: &[u8; 32], at: u64) -> Vec<u8> {
	let mut m = DOMAIN.to_vec();
	m.extend_from_slice(genesis);
	m.extend_from_slice(&job.to_le_bytes());
	m.extend_from_slice(provider);
	m.extend_from_slice(&at.to_le_bytes());
	m
}

/// A signed request to follow a job's stdout: the `Authorization` header's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
	pub signer: [u8; 32],
	pub at: u64,
	pub signature: [u8; 64],
}

/// Why an agent refuses a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
	/// No `Authorization` header, or not one of ours.
	Malformed,
	/// `at` is too far from the agent's clock.
	Stale,
	/// The signature is not the signer's, over this job at this provider.
	BadSignature,
}

impl core::fmt::Display for Refusal {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str(match self {
			Self::Malformed => "no `Authorization: Lilypad signer=..,at=..,signature=..` header",
			Self::Stale => "the request's time is more than 5 minutes from the agent's clock",
			Self::BadSignature => {
				"the signature is not the signer's, for this job at this provider"
			}
		})
	}
}

impl Authorization {
	/// `key`'s request for `job` at `provider`, made now.
	pub fn sign(key: &Keypair, genesis: &[u8; 32], job: JobId, provider: &[u8; 32]) -> Self {
		let at = unix_now();
		let signature = key.sign(&request_message(genesis, job, provider, at)).0;
		Self { signer: key.public_key().0, at, signature }
	}

	/// The header's value.
	pub fn header(&self) -> String {
		format!(
			"{SCHEME} signer={},at={},signature={}",
			hex::encode(self.signer),
			self.at,
			hex::encode(self.signature)
		)
	}

	/// Reads a header's value.
	pub fn parse(header: &str) -> Result<Self, Refusal> {
		let fields = header.strip_prefix(SCHEME).ok_or(Refusal::Malformed)?.trim();
		let (mut signer, mut at, mut signature) = (None, None, None);
		for field in fields.split(',') {
			let (name, value) = field.trim().split_once('=').ok_or(Refusal::Malformed)?;
			match name {
				"signer" => signer = Some(hex_array::<32>(value)?),
				"at" => at = Some(value.parse().map_err(|_| Refusal::Malformed)?),
				"signature" => signature = Some(hex_array::<64>(value)?),
				_ => return Err(Refusal::Malformed),
			}
		}
		match (signer, at, signature) {
			(Some(signer), Some(at), Some(signature)) => Ok(Self { signer, at, signature }),
			_ => Err(Refusal::Malformed),
		}
	}

	/// Checks the time against `now` and the signature against the request it must sign.
	pub fn verify(
		&self,
		genesis: &[u8; 32],
		job: JobId,
		provider: &[u8; 32],
		now: u64,
	) -> Result<(), Refusal> {
		if self.at.abs_diff(now) > MAX_CLOCK_SKEW_SECS {
			return Err(Refusal::Stale);
		}
		let message = request_message(genesis, job, provider, self.at);
		let ok = sr25519::verify(
			&sr25519::Signature(self.signature),
			message,
			&sr25519::PublicKey(self.signer),
		);
		if ok {
			Ok(())
		} else {
			Err(Refusal::BadSignature)
		}
	}
}

fn hex_array<const N: usize>(s: &str) -> Result<[u8; N], Refusal> {
	let mut out = [0u8; N];
	hex::decode_to_slice(s, &mut out).map_err(|_| Refusal::Malformed)?;
	Ok(out)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or_default()
}

/// How a run ended, the data of the `end` event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct End {
	/// The exit ([`exit_text`]), or why the run gave no result (the agent gave the job up).
	pub outcome: String,
	/// Bytes of stdout the run wrote.
	pub stdout_bytes: u64,
}

/// An exit as people read it (`exit 0`, `failed with exit code 3`, ...).
pub fn exit_text(exit: &lilypad_primitives::jobs::ExitStatus) -> String {
	use lilypad_primitives::jobs::ExitStatus;
	match exit {
		ExitStatus::Success => "exit 0".into(),
		ExitStatus::Failed { code } => format!("failed with exit code {code}"),
		ExitStatus::TimedOut => "ran out of time".into(),
		ExitStatus::OutOfMemory => "ran out of memory".into(),
	}
}

/// One event of a live stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
	Line(String),
	Restart,
	End(End),
}

impl Event {
	/// The event as server-sent-event text, ending in the blank line that ends an event.
	pub fn to_sse(&self) -> String {
		let (name, data) = match self {
			Self::Line(line) => ("line", line.as_str().to_owned()),
			Self::Restart => ("restart", String::new()),
			Self::End(end) => {
				("end", serde_json::to_string(end).expect("plain fields serialize; qed"))
			}
		};
		// A `\r` would end an SSE line: it goes as a line break, as SSE readers take it.
		let data = data.replace('\r', "\n");
		let mut out = format!("event: {name}\n");
		for part in data.split('\n') {
			out.push_str("data: ");
			out.push_str(part);
			out.push('\n');
		}
		out.push('\n');
		out
	}

	/// Reads one event's text (without its blank line); `None` for an unknown event name.
	fn from_sse(text: &str) -> Option<anyhow::Result<Self>> {
		let (mut name, mut data) = ("message", Vec::new());
		for line in text.split('\n') {
			let (field, value) = line.split_once(':').unwrap_or((line, ""));
			let value = value.strip_prefix(' ').unwrap_or(value);
			match field {
				"event" => name = value,
				"data" => data.push(value),
				_ => {}
			}
		}
		let data = data.join("\n");
		Some(Ok(match name {
			"line" => Self::Line(data),
			"restart" => Self::Restart,
			"end" => match serde_json::from_str(&data) {
				Ok(end) => Self::End(end),
				Err(e) => return Some(Err(anyhow::anyhow!("a malformed end event: {e}"))),
			},
			_ => return None,
		}))
	}
}

/// Follows job `job`'s stdout at the agent `endpoint` of `provider`, as `creator`: the events
/// as they come, ending after the `end` event (or when the agent closes the stream).
pub async fn follow(
	http: &reqwest::Client,
	endpoint: &str,
	genesis: &[u8; 32],
	job: JobId,
	provider: &[u8; 32],
	creator: &Keypair,
) -> anyhow::Result<impl Stream<Item = anyhow::Result<Event>>> {
	let url = stream_url(endpoint, job);
	let auth = Authorization::sign(creator, genesis, job, provider);
	let response = http
		.get(&url)
		.header(reqwest::header::AUTHORIZATION, auth.header())
		.header(reqwest::header::ACCEPT, "text/event-stream")
		.send()
		.await
		.with_context(|| format!("GET {url}"))?;
	let status = response.status();
	if !status.is_success() {
		let why = response.text().await.unwrap_or_default();
		bail!("GET {url}: HTTP {status}: {why}");
	}
	Ok(parse_sse(Box::pin(response.bytes_stream())))
}

/// The events in a server-sent-event byte stream.
fn parse_sse<E: std::fmt::Display>(
	bytes: impl Stream<Item = Result<bytes::Bytes, E>> + Unpin,
) -> impl Stream<Item = anyhow::Result<Event>> {
	futures::stream::unfold(
		(bytes, Vec::<u8>::new(), false),
		|(mut bytes, mut buffer, mut done)| async move {
			loop {
				if done {
					return None;
				}
				if let Some(at) = buffer.windows(2).position(|w| w == b"\n\n") {
					let text = String::from_utf8_lossy(&buffer[..at]).into_owned();
					buffer.drain(..at + 2);
					match Event::from_sse(&text) {
						Some(event) => {
							done = matches!(event, Ok(Event::End(_)) | Err(_));
							return Some((event, (bytes, buffer, done)));
						}
						None => continue,
					}
				}
				match bytes.next().await {
					Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
					Some(Err(e)) => {
						let e = anyhow::anyhow!("the stream broke: {e}");
						return Some((Err(e), (bytes, buffer, true)));
					}
					None => return None,
				}
			}
		},
	)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_signed_request_verifies_for_its_job_and_provider_only() {
		let key = crate::keys::from_uri("//Alice").unwrap();
		let (genesis, provider) = ([7u8; 32], [9u8; 32]);
		let auth = Authorization::sign(&key, &genesis, 5, &provider);
		let read = Authorization::parse(&auth.header()).unwrap();
		assert_eq!(read, auth);
		let now = auth.at;
		assert_eq!(read.verify(&genesis, 5, &provider, now), Ok(()));
		assert_eq!(read.verify(&genesis, 6, &provider, now), Err(Refusal::BadSignature));
		assert_eq!(read.verify(&genesis, 5, &[8; 32], now), Err(Refusal::BadSignature));
		assert_eq!(read.verify(&[0; 32], 5, &provider, now), Err(Refusal::BadSignature));
		assert_eq!(read.verify(&genesis, 5, &provider, now + 301), Err(Refusal::Stale));
		// Another key's signature under Alice's name.
		let bob = crate::keys::from_uri("//Bob").unwrap();
		let forged = Authorization {
			signature: Authorization::sign(&bob, &genesis, 5, &provider).signature,
			..auth
		};
		assert_eq!(forged.verify(&genesis, 5, &provider, now), Err(Refusal::BadSignature));
		assert_eq!(Authorization::parse("Bearer x"), Err(Refusal::Malformed));
		assert_eq!(Authorization::parse("Lilypad signer=00"), Err(Refusal::Malformed));
	}

	#[tokio::test]
	async fn events_survive_the_wire_in_any_chunking() {
		let events = vec![
			Event::Line(r#"{"id":28,"text":"Hi"}"#.into()),
			Event::Line("two\nparts and a \r".into()),
			Event::Restart,
			Event::Line(String::new()),
			Event::End(End { outcome: "exit 0".into(), stdout_bytes: 42 }),
		];
		let text: String = events.iter().map(Event::to_sse).collect();
		// Cut into 3-byte pieces: events arrive split anywhere.
		let chunks: Vec<Result<bytes::Bytes, std::convert::Infallible>> =
			text.as_bytes().chunks(3).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
		let read: Vec<Event> =
			parse_sse(futures::stream::iter(chunks)).map(|e| e.unwrap()).collect().await;
		let mut expected = events;
		expected[1] = Event::Line("two\nparts and a \n".into());
		assert_eq!(read, expected);
	}
}
