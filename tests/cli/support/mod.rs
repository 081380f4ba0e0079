//! What the CLI tests share: the `ecomm` builder and the snapshot macro ([`ecomm`]), the
//! strict JSON answers ([`answers`]), the local stack of a test ([`local`]), and for the
//! `--env aws` tests moto ([`moto`]), a bus wired as Terraform would ([`stack`]), DLQ messages
//! in the three formats ([`fixtures`]), a recording proxy in front of Lambda ([`recorder`]), Lambda's S3 on-failure destination ([`bucket`]), a
//! proxy that injects throttling and partial failures ([`faults`]), and a pseudo-terminal for
//! `ecomm ui` and colours ([`pty`]).

mod answers;
mod bucket;
mod ecomm;
mod faults;
mod fixtures;
mod local;
mod moto;
mod pty;
mod recorder;
mod stack;

pub(crate) use answers::*;
pub(crate) use bucket::FailureBucket;
pub(crate) use ecomm::{Ecomm, Session, assert_session_snapshot, interrupt, snapshot_settings};
pub(crate) use faults::*;
pub(crate) use fixtures::*;
pub(crate) use local::*;
pub(crate) use moto::*;
pub(crate) use pty::Pty;
pub(crate) use recorder::*;
pub(crate) use stack::*;
