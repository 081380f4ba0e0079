//! `ecomm demo`: the whole system on the local stack, with realistic orders and faults.

use anyhow::{Context as _, anyhow};
use chrono::{Duration, Utc};
use ecomm_local::demo::DemoOptions;
use ecomm_local::faults::FaultSpec;

use crate::cli::DemoArgs;
use crate::interaction::Interaction;
use crate::report::demo::{DemoSummary, RejectedField};
use crate::target::Target;

/// Run the demo.
pub(crate) async fn run(
    target: &Target,
    args: &DemoArgs,
    interaction: &dyn Interaction,
) -> anyhow::Result<DemoSummary> {
    let state = target.local_state("demo")?;
    let tenants = usize::from(args.tenants);
    let faults = FaultSpec::parse(&args.faults, tenants).map_err(|e| anyhow!("--faults: {e}"))?;
    if !args.extend {
        ecomm_local::store::remove_state(state)
            .with_context(|| format!("while resetting {}", state.display()))?;
    }
    let window = Duration::hours(1);
    let options = DemoOptions {
        orders: args.orders as usize,
        seed: args.seed,
        faults,
        start: args.start.unwrap_or_else(|| Utc::now() - window),
        window,
        tenants,
    };
    let spinner = interaction.spinner("running the demo");
    let run = ecomm_local::demo::run(state, &options, |stats, pending| {
        spinner.status(format!(
            "{} orders accepted, {} events routed, {} steps pending",
            stats.orders_accepted, stats.events_put, pending
        ));
    })
    .await
    .with_context(|| format!("while running the demo on {}", state.display()))?;
    spinner.finish();
    // The producer's 400 body: `{"errors": [{"field", "code", "message"}, ...]}`.
    let rejected_fields = run
        .rejection_example
        .as_ref()
        .and_then(|body| body.get("errors").cloned())
        .and_then(|errors| serde_json::from_value::<Vec<RejectedField>>(errors).ok())
        .unwrap_or_default();
    Ok(DemoSummary {
        run,
        rejected_fields,
    })
}
