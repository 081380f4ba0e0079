//! `ecomm demo`: the whole system on the local stack, with realistic orders and faults.

use anyhow::{Context as _, anyhow};
use chrono::{Duration, Utc};
use ecomm_local::demo::{DemoOptions, DemoReport};
use ecomm_local::faults::FaultSpec;

use crate::Outcome;
use crate::cli::DemoArgs;
use crate::render::{self, Printer};
use crate::target::Target;

/// Run the demo and print its summary.
pub async fn run(target: &Target, args: &DemoArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let state = target.local_state("demo")?;
    let faults = FaultSpec::parse(&args.faults).map_err(|e| anyhow!("--faults: {e}"))?;
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
    };
    let spinner = printer.spinner("running the demo");
    let report: DemoReport = ecomm_local::demo::run(state, &options, |stats, pending| {
        spinner.set_message(format!(
            "{} orders accepted, {} events routed, {} steps pending",
            stats.orders_accepted, stats.events_put, pending
        ));
    })
    .await
    .with_context(|| format!("while running the demo on {}", state.display()))?;
    spinner.finish_and_clear();
    render::demo::print(printer, &target.banner(), &report);
    Ok(Outcome::Success)
}
