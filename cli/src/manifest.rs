//! `lilypad-module.toml`: how a module version is described for `lilypad module publish`.
//!
//! ```toml
//! name = "cowsay"
//! version = "0.1.0"
//! timeout_secs = 60
//! price_floor = "0.001"          # LILY per job, at least
//! royalty_percent = 0.0          # of each job's price, to this module's owner
//! verification = "none"          # "none", "deterministic" or "sampled:0.1"
//! # parent = "cowsay@0.1.0"      # the version this one is forked from
//!
//! [artifact]
//! wasm = "dist/cowsay.wasm"      # or: docker = "dist/cowsay.tar" (a `docker save` tarball)
//!
//! [resources]
//! cpu_millicores = 500
//! ram_mib = 64
//!
//! [[inputs]]
//! name = "Message"
//! type = "text"                  # "text", "integer" or "boolean"
//! required = true                # or: default = "moo"
//! delivery = "env"               # "env", "argument" or "file"
//! ```
//! Paths are relative to the manifest's directory.
use std::path::{Path, PathBuf};

use anyhow::Context;
use lilypad_client::content::digest_of;
use lilypad_primitives::registry::{
	check_manifest, Artifact, Delivery, InputParam, ModuleRef, ParamType, Resources, SemVer,
	VerificationPolicy, VersionManifest,
};
use polkadot_sdk::sp_runtime::Perbill;
use serde::Deserialize;

use crate::error::{fail, Kind};

/// The manifest's file name.
pub const FILE: &str = "lilypad-module.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleToml {
	name: String,
	version: String,
	artifact: ArtifactToml,
	#[serde(default)]
	inputs: Vec<InputToml>,
	#[serde(default)]
	resources: ResourcesToml,
	timeout_secs: u32,
	price_floor: String,
	#[serde(default)]
	royalty_percent: f64,
	#[serde(default = "none")]
	verification: String,
	parent: Option<String>,
}

fn none() -> String {
	"none".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArtifactToml {
	wasm: Option<PathBuf>,
	docker: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputToml {
	name: String,
	#[serde(rename = "type", default = "text")]
	kind: String,
	#[serde(default)]
	required: bool,
	default: Option<String>,
	#[serde(default = "env")]
	delivery: String,
}

fn text() -> String {
	"text".into()
}
fn env() -> String {
	"env".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ResourcesToml {
	cpu_millicores: u32,
	ram_mib: u32,
	gpus: u8,
	vram_mib: u32,
	disk_mib: u32,
}

impl Default for ResourcesToml {
	fn default() -> Self {
		Self { cpu_millicores: 1000, ram_mib: 256, gpus: 0, vram_mib: 0, disk_mib: 0 }
	}
}

/// A module version ready to publish: its manifest and its artifact's bytes.
pub struct Package {
	pub manifest: VersionManifest<u128>,
	pub artifact: Vec<u8>,
}

/// Reads `dir/lilypad-module.toml` and the artifact it names; every mistake is a
/// [`Kind::BadInput`] naming the field.
pub fn load(dir: &Path) -> anyhow::Result<Package> {
	let path = dir.join(FILE);
	let text = std::fs::read_to_string(&path)
		.map_err(|e| fail(Kind::BadInput, format!("{}: {e}", path.display())))?;
	let bad = |what: String| fail(Kind::BadInput, format!("{}: {what}", path.display()));
	let m: ModuleToml = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
	let version = SemVer::parse(&m.version)
		.ok_or_else(|| bad(format!("version {:?} is not major.minor.patch", m.version)))?;
	let (artifact, bytes) = match (&m.artifact.wasm, &m.artifact.docker) {
		(Some(wasm), None) => {
			let file = dir.join(wasm);
			let bytes = std::fs::read(&file)
				.map_err(|e| bad(format!("artifact {}: {e}", file.display())))?;
			(Artifact::Wasm { digest: digest_of(&bytes), size: bytes.len() as u64 }, bytes)
		}
		(None, Some(tarball)) => {
			let file = dir.join(tarball);
			let bytes = std::fs::read(&file)
				.map_err(|e| bad(format!("artifact {}: {e}", file.display())))?;
			let config = image_config_digest(&bytes)
				.map_err(|e| bad(format!("artifact {}: {e:#}", file.display())))?;
			(Artifact::Docker { archive_digest: digest_of(&bytes), config_digest: config }, bytes)
		}
		_ => return Err(bad("[artifact] names exactly one of `wasm` or `docker`".into())),
	};
	let mut inputs = Vec::new();
	for i in &m.inputs {
		let kind = match i.kind.as_str() {
			"text" => ParamType::Text,
			"integer" => ParamType::Integer,
			"boolean" => ParamType::Boolean,
			other => {
				return Err(bad(format!(
					"input {}: type {other:?} is not text, integer or boolean",
					i.name
				)))
			}
		};
		let delivery = match i.delivery.as_str() {
			"env" => Delivery::Env,
			"argument" => Delivery::Argument,
			"file" => Delivery::File,
			other => {
				return Err(bad(format!(
					"input {}: delivery {other:?} is not env, argument or file",
					i.name
				)))
			}
		};
		inputs.push(InputParam {
			name: i
				.name
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| bad(format!("input name {:?} is too long", i.name)))?,
			kind,
			default: i
				.default
				.as_ref()
				.map(|d| d.as_bytes().to_vec().try_into())
				.transpose()
				.map_err(|_| bad(format!("input {}: the default is too long", i.name)))?,
			required: i.required,
			delivery,
		});
	}
	let verification = match m.verification.as_str() {
		"none" => VerificationPolicy::None,
		"deterministic" => VerificationPolicy::Deterministic,
		s => match s.strip_prefix("sampled:").and_then(|p| p.parse::<f64>().ok()) {
			Some(p) if (0.0..=1.0).contains(&p) => {
				VerificationPolicy::Sampled { p: Perbill::from_float(p) }
			}
			_ => {
				return Err(bad(format!(
					"verification {s:?} is not none, deterministic or sampled:<0..1>"
				)))
			}
		},
	};
	if !(0.0..=100.0).contains(&m.royalty_percent) {
		return Err(bad(format!("royalty_percent {} is not between 0 and 100", m.royalty_percent)));
	}
	let manifest = VersionManifest {
		module: m
			.name
			.as_bytes()
			.to_vec()
			.try_into()
			.map_err(|_| bad("name is too long".into()))?,
		version,
		artifact,
		inputs: inputs.try_into().map_err(|_| bad("too many inputs".into()))?,
		resources: Resources {
			cpu_millicores: m.resources.cpu_millicores,
			ram_mib: m.resources.ram_mib,
			gpus: m.resources.gpus,
			vram_mib: m.resources.vram_mib,
			disk_mib: m.resources.disk_mib,
		},
		timeout_secs: m.timeout_secs,
		price_floor: crate::units::parse_lily(&m.price_floor)
			.map_err(|e| bad(format!("price_floor: {e}")))?,
		royalty: Perbill::from_float(m.royalty_percent / 100.0),
		verification,
		parent: m
			.parent
			.as_deref()
			.map(|p| {
				ModuleRef::parse(p).ok_or_else(|| bad(format!("parent {p:?} is not name@version")))
			})
			.transpose()?,
	};
	check_manifest(&manifest).map_err(|e| bad(format!("{e:?}")))?;
	Ok(Package { manifest, artifact: bytes })
}

/// The config digest (image id) of the image in a `docker save` tarball, from its
/// `manifest.json` (`"Config": "<hex>.json"` or `"blobs/sha256/<hex>"`).
pub fn image_config_digest(tarball: &[u8]) -> anyhow::Result<[u8; 32]> {
	let mut archive = tar::Archive::new(tarball);
	for entry in archive.entries()? {
		let mut entry = entry?;
		if entry.path()?.as_os_str() != "manifest.json" {
			continue;
		}
		let manifest: serde_json::Value = serde_json::from_reader(&mut entry)?;
		let config = manifest[0]["Config"].as_str().context("manifest.json has no Config")?;
		let hex_id = config.trim_end_matches(".json").rsplit('/').next().unwrap_or_default();
		let mut id = [0u8; 32];
		hex::decode_to_slice(hex_id, &mut id).context("Config is not named by its sha256")?;
		return Ok(id);
	}
	anyhow::bail!("not a `docker save` tarball: no manifest.json")
}

#[cfg(test)]
mod tests {
	use super::*;

	fn write(dir: &Path, manifest: &str) {
		std::fs::write(dir.join(FILE), manifest).unwrap();
		std::fs::write(dir.join("m.wasm"), b"\0asm\x01\0\0\0").unwrap();
	}

	const GOOD: &str = r#"
name = "cowsay"
version = "0.2.1"
timeout_secs = 60
price_floor = "0.001"
royalty_percent = 5
verification = "sampled:0.25"
parent = "cowsay@0.1.0"

[artifact]
wasm = "m.wasm"

[resources]
cpu_millicores = 500
ram_mib = 64

[[inputs]]
name = "Message"
required = true

[[inputs]]
name = "rounds"
type = "integer"
default = "3"
delivery = "argument"
"#;

	#[test]
	fn a_manifest_becomes_a_version_manifest() {
		let dir = tempfile::tempdir().unwrap();
		write(dir.path(), GOOD);
		let p = load(dir.path()).unwrap();
		let m = p.manifest;
		assert_eq!(&m.module[..], b"cowsay");
		assert_eq!(m.version, SemVer::new(0, 2, 1));
		assert_eq!(m.price_floor, lilypad_primitives::MILLI_LILY);
		assert_eq!(m.royalty, Perbill::from_percent(5));
		assert_eq!(m.verification, VerificationPolicy::Sampled { p: Perbill::from_percent(25) });
		assert_eq!(m.parent, ModuleRef::parse("cowsay@0.1.0"));
		assert_eq!(m.resources.ram_mib, 64);
		assert_eq!(m.inputs.len(), 2);
		assert_eq!(m.inputs[1].kind, ParamType::Integer);
		assert_eq!(m.inputs[1].delivery, Delivery::Argument);
		assert_eq!(m.artifact, Artifact::Wasm { digest: digest_of(&p.artifact), size: 8 });
	}

	#[test]
	fn mistakes_name_what_is_wrong() {
		let dir = tempfile::tempdir().unwrap();
		for (from, to, says) in [
			("version = \"0.2.1\"", "version = \"0.2\"", "is not major.minor.patch"),
			("type = \"integer\"", "type = \"float\"", "input rounds: type \"float\""),
			("wasm = \"m.wasm\"", "wasm = \"missing.wasm\"", "missing.wasm"),
			("price_floor = \"0.001\"", "price_floor = \"cheap\"", "price_floor"),
			("verification = \"sampled:0.25\"", "verification = \"sometimes\"", "verification"),
			("required = true", "required = true\ndefault = \"x\"", "RequiredParamWithDefault"),
		] {
			write(dir.path(), &GOOD.replace(from, to));
			let err = load(dir.path()).err().expect(says);
			assert!(err.to_string().contains(says), "{says}: {err}");
			assert_eq!(crate::error::kind_of(&err).0, Kind::BadInput);
		}
	}
}
