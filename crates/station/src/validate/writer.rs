//! One writer per record: an entry of a device's change log is stamped by that
//! device's own clock (the clock's node is the device id the credential is bound to),
//! and a record that names its device (a manifest, a DIN range) names the pusher.

use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::LocalChange;
use uuid::Uuid;

use super::{Detail, Record, about};

pub fn own_clock(device_id: Uuid, entry: &LocalChange) -> Result<(), Message> {
    if entry.hlc.node == device_id {
        return Ok(());
    }
    Err(about("push_refused.other_writer", entry).with("writer", entry.hlc.node.to_string()))
}

pub fn named_device(device_id: Uuid, entry: &LocalChange, record: &Record) -> Result<(), Message> {
    match record.detail {
        Detail::NamesDevice(named) if named != device_id => {
            Err(about("push_refused.other_device", entry)
                .with("kind", entry.entity.as_str())
                .with("named", named.to_string()))
        }
        _ => Ok(()),
    }
}
