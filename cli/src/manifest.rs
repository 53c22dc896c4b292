//! `lilypad-module.toml` and `lilypad-model.toml`: how a module version and a model version
//! are described for `lilypad module publish` and `lilypad model publish`.
//!
//! ```toml
//! name = "cowsay"
//! version = "0.1.0"
//! timeout_secs = 60
//! price_floor = "0.001"          # LILY per job, at least
//! royalty_percent = 0.0          # of each job's price, to this module's owner
//! verification = "none"          # "none", "deterministic" or "sampled:0.1"
//! # parent = "cowsay@0.1.0"      # the version this one is forked from
//! # models = ["smollm2-135m-instruct@1.0.0"]  # mounted at /models/<name> in every run
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
//!
//! ```toml
//! name = "smollm2-135m-instruct"
//! version = "1.0.0"
//! licence = "Apache-2.0"         # SPDX: "MIT", "MIT OR Apache-2.0", "LicenseRef-llama3"
//! royalty_percent = 2.0          # of each job's price, to this model's owner
//! format = "gguf"                # "gguf", "safetensors" or "onnx"
//! weights = "smollm2-135m-instruct-q8_0.gguf"  # a file, or a directory (weights, tokenizer)
//! # parent = "smollm2-135m@1.0.0"  # the model version this one derives from
//! ```
//! Paths are relative to the manifest's directory. A weights directory is published as its
//! canonical tar ([`lilypad_client::archive::canonical_tar`]), named by that tar's digest.
use std::{
	fs::File,
	io::{BufWriter, Write},
	path::{Path, PathBuf},
};

use anyhow::Context;
use lilypad_client::{
	archive::{canonical_tar, digest_of_file, Digesting},
	content::digest_of,
};
use lilypad_primitives::{
	models::{
		check_model_manifest, is_valid_licence, Licence, ModelError, ModelManifest, ModelName,
		ModelRefs, Weights, WeightsFormat, WeightsLayout, MAX_MODULE_MODELS,
	},
	registry::{
		check_manifest, is_valid_slug, Artifact, Delivery, InputParam, ModuleRef, ParamType,
		Resources, SemVer, VerificationPolicy, VersionManifest,
	},
};
use polkadot_sdk::sp_runtime::Perbill;
use serde::Deserialize;

use crate::error::{fail, Kind};

/// The module manifest's file name.
pub const FILE: &str = "lilypad-module.toml";
/// The model manifest's file name.
pub const MODEL_FILE: &str = "lilypad-model.toml";

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
	#[serde(default)]
	models: Vec<String>,
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
		models: parse_models(&m.models).map_err(bad)?,
	};
	check_manifest(&manifest).map_err(|e| bad(format!("{e:?}")))?;
	Ok(Package { manifest, artifact: bytes })
}

/// The models a module version needs, from `models = ["name@version", ...]`: each a model's
/// version, and each model once (a run mounts it at `/models/<name>`).
fn parse_models(list: &[String]) -> Result<ModelRefs, String> {
	let mut models: Vec<ModuleRef> = Vec::new();
	for s in list {
		let model = ModuleRef::parse(s)
			.filter(|m| is_valid_slug(&m.name))
			.ok_or_else(|| format!("models: {s:?} is not model@version (`smollm2@1.0.0`)"))?;
		if let Some(other) = models.iter().find(|o| o.name == model.name) {
			return Err(format!(
				"models: {other} and {model} are versions of one model; a run mounts each model \
				 once, at /models/<name>: name one version"
			));
		}
		models.push(model);
	}
	models
		.try_into()
		.map_err(|_| format!("models: {} named, at most {MAX_MODULE_MODELS}", list.len()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelToml {
	name: String,
	version: String,
	licence: String,
	#[serde(default)]
	royalty_percent: f64,
	format: String,
	weights: PathBuf,
	parent: Option<String>,
}

/// A model version ready to publish: its manifest and its weights blob.
pub struct ModelPackage {
	pub manifest: ModelManifest,
	pub blob: Blob,
}

/// A weights blob on disk: the weights file itself, or the canonical tar of a weights
/// directory in a temporary file, removed when this is dropped.
pub struct Blob {
	path: PathBuf,
	temporary: bool,
}

impl Blob {
	pub fn path(&self) -> &Path {
		&self.path
	}
}

impl Drop for Blob {
	fn drop(&mut self) {
		if self.temporary {
			let _ = std::fs::remove_file(&self.path);
		}
	}
}

/// Reads `dir/lilypad-model.toml` and names the weights it points at: a file by its blake3
/// digest, a directory by the digest of its canonical tar (written to a temporary file, to be
/// uploaded). Weights are streamed, never held in memory. Every mistake is a
/// [`Kind::BadInput`] naming the field; the cheap fields are checked before the weights are
/// read.
pub fn load_model(dir: &Path) -> anyhow::Result<ModelPackage> {
	let path = dir.join(MODEL_FILE);
	let text = std::fs::read_to_string(&path)
		.map_err(|e| fail(Kind::BadInput, format!("{}: {e}", path.display())))?;
	let bad = |what: String| fail(Kind::BadInput, format!("{}: {what}", path.display()));
	let m: ModelToml = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
	let model: Option<ModelName> = m.name.as_bytes().to_vec().try_into().ok();
	let model = model.filter(|n| is_valid_slug(n)).ok_or_else(|| {
		bad(format!(
			"name {:?} is not a model name (a-z, 0-9 and single `-`, starting with a \
			 letter, at most 32 bytes)",
			m.name
		))
	})?;
	let version = SemVer::parse(&m.version)
		.ok_or_else(|| bad(format!("version {:?} is not major.minor.patch", m.version)))?;
	if !is_valid_licence(m.licence.as_bytes()) {
		return Err(bad(format!(
			"licence {:?} is not an SPDX identifier or expression (`Apache-2.0`, \
			 `MIT OR Apache-2.0`, `LicenseRef-<name>`)",
			m.licence
		)));
	}
	let licence: Licence = m
		.licence
		.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| bad(format!("licence {:?} is longer than 64 bytes", m.licence)))?;
	if !(0.0..=100.0).contains(&m.royalty_percent) {
		return Err(bad(format!("royalty_percent {} is not between 0 and 100", m.royalty_percent)));
	}
	let format = WeightsFormat::parse(&m.format)
		.ok_or_else(|| bad(format!("format {:?} is not gguf, safetensors or onnx", m.format)))?;
	let parent = m
		.parent
		.as_deref()
		.map(|p| {
			ModuleRef::parse(p).ok_or_else(|| bad(format!("parent {p:?} is not model@version")))
		})
		.transpose()?;
	// Checked before the weights are read, as every field is: they may be gigabytes.
	if let Some(p) = parent.as_ref().filter(|p| p.name == model) {
		return Err(bad(format!("parent {p}: a model cannot derive from a version of itself")));
	}
	let (weights, blob) = weights(dir, &m.weights, format)
		.map_err(|e| bad(format!("weights {}: {e:#}", m.weights.display())))?;
	let manifest = ModelManifest {
		model,
		version,
		weights,
		licence,
		royalty: Perbill::from_float(m.royalty_percent / 100.0),
		parent,
	};
	check_model_manifest(&manifest).map_err(|e| {
		bad(match e {
			ModelError::InvalidModelName => format!("name {:?} is not a model name", m.name),
			ModelError::EmptyWeights => format!("weights {}: empty", m.weights.display()),
			ModelError::InvalidLicence => format!("licence {:?} is not SPDX", m.licence),
			ModelError::OwnParent => "parent: a model cannot derive from itself".into(),
		})
	})?;
	Ok(ModelPackage { manifest, blob })
}

/// Names the weights at `dir/rel`: a file as it is, a directory by its canonical tar, written
/// to a temporary file as it is hashed.
fn weights(dir: &Path, rel: &Path, format: WeightsFormat) -> anyhow::Result<(Weights, Blob)> {
	let path = dir.join(rel);
	let meta = std::fs::metadata(&path)?;
	if meta.is_file() {
		let (digest, size) = digest_of_file(&path)?;
		let weights = Weights { digest, size, layout: WeightsLayout::File, format };
		return Ok((weights, Blob { path, temporary: false }));
	}
	if !meta.is_dir() {
		anyhow::bail!("neither a file nor a directory");
	}
	if std::fs::canonicalize(&path)? == std::fs::canonicalize(dir)? {
		anyhow::bail!(
			"the manifest's own directory: name a directory beside {MODEL_FILE}, which is no \
			 part of the weights"
		);
	}
	let nanos = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| d.subsec_nanos());
	let tar_path =
		std::env::temp_dir().join(format!("lilypad-model-{}-{nanos}.tar", std::process::id()));
	let file = File::options()
		.write(true)
		.create_new(true)
		.open(&tar_path)
		.with_context(|| format!("create {}", tar_path.display()))?;
	// From here the temporary file is removed however this ends.
	let blob = Blob { path: tar_path, temporary: true };
	let mut out = Digesting::new(BufWriter::new(file));
	canonical_tar(&path, &mut out).with_context(|| format!("archive {}", path.display()))?;
	out.flush()?;
	let (digest, size, _) = out.finish()?;
	Ok((Weights { digest, size, layout: WeightsLayout::Directory, format }, blob))
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
models = ["smollm2-135m-instruct@1.0.0", "bge-small@0.1.0"]

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
		let models: Vec<String> = m.models.iter().map(ToString::to_string).collect();
		assert_eq!(models, ["smollm2-135m-instruct@1.0.0", "bge-small@0.1.0"]);
	}

	#[test]
	fn a_module_needs_no_models_unless_it_names_them() {
		let dir = tempfile::tempdir().unwrap();
		let models = "models = [\"smollm2-135m-instruct@1.0.0\", \"bge-small@0.1.0\"]\n";
		write(dir.path(), &GOOD.replace(models, ""));
		assert!(load(dir.path()).unwrap().manifest.models.is_empty());
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
			("\"bge-small@0.1.0\"", "\"bge-small\"", "models: \"bge-small\" is not model@version"),
			("\"bge-small@0.1.0\"", "\"BGE@0.1.0\"", "models: \"BGE@0.1.0\" is not model@version"),
			(
				"\"bge-small@0.1.0\"",
				"\"smollm2-135m-instruct@1.1.0\"",
				"smollm2-135m-instruct@1.0.0 and smollm2-135m-instruct@1.1.0 are versions of one",
			),
			(
				"\"bge-small@0.1.0\"",
				"\"a@1.0.0\", \"b@1.0.0\", \"c@1.0.0\", \"d@1.0.0\"",
				"models: 5 named, at most 4",
			),
		] {
			write(dir.path(), &GOOD.replace(from, to));
			let err = load(dir.path()).err().expect(says);
			assert!(err.to_string().contains(says), "{says}: {err}");
			assert_eq!(crate::error::kind_of(&err).0, Kind::BadInput);
		}
	}

	const MODEL: &str = r#"
name = "smollm2-135m-instruct"
version = "1.0.0"
licence = "Apache-2.0"
royalty_percent = 2
format = "gguf"
weights = "w.gguf"
parent = "smollm2-135m@1.0.0"
"#;

	fn write_model(dir: &Path, manifest: &str) {
		std::fs::write(dir.join(MODEL_FILE), manifest).unwrap();
		std::fs::write(dir.join("w.gguf"), b"GGUF\x03\0\0\0weights").unwrap();
	}

	#[test]
	fn a_model_manifest_names_its_weights_file() {
		let dir = tempfile::tempdir().unwrap();
		write_model(dir.path(), MODEL);
		let p = load_model(dir.path()).unwrap();
		let m = &p.manifest;
		assert_eq!(&m.model[..], b"smollm2-135m-instruct");
		assert_eq!(m.version, SemVer::new(1, 0, 0));
		assert_eq!(&m.licence[..], b"Apache-2.0");
		assert_eq!(m.royalty, Perbill::from_percent(2));
		assert_eq!(m.parent, ModuleRef::parse("smollm2-135m@1.0.0"));
		let bytes = std::fs::read(dir.path().join("w.gguf")).unwrap();
		assert_eq!(
			m.weights,
			Weights {
				digest: digest_of(&bytes),
				size: bytes.len() as u64,
				layout: WeightsLayout::File,
				format: WeightsFormat::Gguf,
			}
		);
		// The file itself is the blob, and stays when the package goes.
		assert_eq!(p.blob.path(), dir.path().join("w.gguf"));
		drop(p);
		assert!(dir.path().join("w.gguf").exists());
	}

	#[test]
	fn a_weights_directory_is_named_by_its_canonical_tar() {
		let dir = tempfile::tempdir().unwrap();
		let weights = dir.path().join("weights");
		std::fs::create_dir_all(weights.join("tokenizer")).unwrap();
		std::fs::write(weights.join("model.safetensors"), [7u8; 4096]).unwrap();
		std::fs::write(weights.join("tokenizer/tokenizer.json"), b"{}").unwrap();
		let manifest =
			MODEL.replace("\"gguf\"", "\"safetensors\"").replace("\"w.gguf\"", "\"weights\"");
		write_model(dir.path(), &manifest);
		let p = load_model(dir.path()).unwrap();
		let mut tar = Vec::new();
		canonical_tar(&weights, &mut tar).unwrap();
		let w = p.manifest.weights;
		assert_eq!((w.layout, w.format), (WeightsLayout::Directory, WeightsFormat::Safetensors));
		assert_eq!((w.digest, w.size), (digest_of(&tar), tar.len() as u64));
		// The tar waits in a temporary file for the upload, and goes with the package.
		let blob = p.blob.path().to_path_buf();
		assert_eq!(std::fs::read(&blob).unwrap(), tar);
		drop(p);
		assert!(!blob.exists());
	}

	#[test]
	fn model_mistakes_name_what_is_wrong() {
		let dir = tempfile::tempdir().unwrap();
		for (from, to, says) in [
			(
				"format = \"gguf\"",
				"format = \"pt\"",
				"format \"pt\" is not gguf, safetensors or onnx",
			),
			("\"Apache-2.0\"", "\"Apache 2.0\"", "licence \"Apache 2.0\" is not an SPDX"),
			("\"Apache-2.0\"", "\"MIT OR\"", "licence \"MIT OR\" is not an SPDX"),
			("name = \"smollm2-135m-instruct\"", "name = \"SmolLM2\"", "is not a model name"),
			("version = \"1.0.0\"", "version = \"1.0\"", "is not major.minor.patch"),
			("royalty_percent = 2", "royalty_percent = 101", "royalty_percent 101"),
			("\"smollm2-135m@1.0.0\"", "\"smollm2-135m\"", "parent \"smollm2-135m\""),
			(
				"\"smollm2-135m@1.0.0\"",
				"\"smollm2-135m-instruct@0.9.0\"",
				"cannot derive from a version of itself",
			),
			("\"w.gguf\"", "\"missing.gguf\"", "weights missing.gguf"),
			("\"w.gguf\"", "\".\"", "the manifest's own directory"),
			("licence = \"Apache-2.0\"\n", "", "missing field `licence`"),
		] {
			write_model(dir.path(), &MODEL.replace(from, to));
			let err = load_model(dir.path()).err().expect(says);
			assert!(err.to_string().contains(says), "{says}: {err}");
			assert_eq!(crate::error::kind_of(&err).0, Kind::BadInput);
		}
		std::fs::write(dir.path().join(MODEL_FILE), MODEL).unwrap();
		std::fs::write(dir.path().join("w.gguf"), b"").unwrap();
		let err = load_model(dir.path()).err().expect("empty weights");
		assert!(err.to_string().contains("weights w.gguf: empty"), "{err}");
	}
}
