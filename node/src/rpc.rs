//! The node's JSON-RPC methods beyond the standard `system_*`, `chain_*`, `state_*` and
//! `author_*` ones: account nonces and fee estimates for wallets and clients, and Lilypad's own
//! `lilypad_*` reads of the protocol's state.
use std::sync::Arc;

use crate::{
	jobs_rpc::{Jobs, JobsRpcServer},
	providers_rpc::{Providers, ProvidersRpcServer},
	registry_rpc::{Registry, RegistryRpcServer},
};
use jsonrpsee::RpcModule;
use lilypad_primitives::{
	jobs::JobsApi, models::ModelsApi, providers::ProvidersApi, registry::RegistryApi,
};
use lilypad_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use polkadot_sdk::{
	pallet_transaction_payment_rpc::{self, TransactionPayment, TransactionPaymentApiServer},
	sc_transaction_pool_api::TransactionPool,
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	substrate_frame_rpc_system::{self, System, SystemApiServer},
};

/// What the RPC methods need from the node.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
}

/// All RPC methods of a full node.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ RegistryApi<Block, AccountId, Balance, BlockNumber>
		+ ModelsApi<Block, AccountId, Balance, BlockNumber>
		+ ProvidersApi<Block, AccountId, Balance, BlockNumber>
		+ JobsApi<Block, AccountId, Balance, BlockNumber>
		+ BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	let FullDeps { client, pool } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(Registry::new(client.clone()).into_rpc())?;
	module.merge(Providers::new(client.clone()).into_rpc())?;
	module.merge(Jobs::new(client).into_rpc())?;
	Ok(module)
}

/// A JSON-RPC "invalid params" error: the caller sent something malformed.
pub(crate) fn invalid_params(message: impl Into<String>) -> jsonrpsee::types::ErrorObjectOwned {
	use jsonrpsee::types::{error::ErrorCode, ErrorObjectOwned};
	ErrorObjectOwned::owned(ErrorCode::InvalidParams.code(), message.into(), None::<()>)
}

/// A JSON-RPC "internal error": the runtime call failed.
pub(crate) fn internal(message: impl ToString) -> jsonrpsee::types::ErrorObjectOwned {
	use jsonrpsee::types::{error::ErrorCode, ErrorObjectOwned};
	ErrorObjectOwned::owned(ErrorCode::InternalError.code(), message.to_string(), None::<()>)
}

/// An SS58 account parameter.
pub(crate) fn account(
	ss58: &str,
) -> Result<lilypad_primitives::AccountId, jsonrpsee::types::ErrorObjectOwned> {
	use polkadot_sdk::sp_core::crypto::Ss58Codec;
	lilypad_primitives::AccountId::from_ss58check(ss58)
		.map_err(|e| invalid_params(format!("bad account {ss58}: {e:?}")))
}
