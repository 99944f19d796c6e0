//! Microsoft Azure backend: Azure Functions on the Flex Consumption plan. Built so far: the
//! pure reading of a service as one Function App ([`app`]), with Azure's per-app settings,
//! triggers and limits checked at plan time. The calls to Azure Resource Manager are not built
//! yet.

pub mod app;
