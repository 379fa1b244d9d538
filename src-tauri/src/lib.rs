//! Lifebridge's app: a thin Tauri shell. Commands (in [`commands`]) call the store and
//! domain crates; the UI in `ui/` only displays and collects.
//!
//! Start-up configuration comes from the environment so `make run` and the end-to-end
//! tests can point the app at a demo store:
//! - `LIFEBRIDGE_STORE`: the store file (default: the app's data folder, `device.db`);
//! - `LIFEBRIDGE_STORE_KEY`: unlock at start instead of asking for the device passphrase
//!   (the store must exist: the app never creates one unasked);
//! - `LIFEBRIDGE_DEVICE_NAME`: this device's name for a new store;
//! - `LIFEBRIDGE_FACILITY_NAME`: the facility printed on the labels (default
//!   [`state::DEFAULT_FACILITY_NAME`]);
//! - `LIFEBRIDGE_IDLE_MINUTES`: sign the person out after this many minutes without a
//!   command (default [`state::DEFAULT_IDLE_MINUTES`]);
//! - `LIFEBRIDGE_STATION_URL` + `LIFEBRIDGE_ENROLL_CODE`: enroll with a station at first
//!   start; `LIFEBRIDGE_STATION_CERT` pins its certificate (HTTPS); without it only a
//!   loopback `http://` station is accepted.

#[cfg(test)]
mod bindings;
mod commands;
mod error;
mod state;
mod sync;

use std::path::PathBuf;

use tauri::Manager;

use crate::state::AppState;

fn store_path(app: &tauri::App) -> PathBuf {
    if let Some(path) = std::env::var_os("LIFEBRIDGE_STORE") {
        return PathBuf::from(path);
    }
    app.path()
        .app_data_dir()
        .unwrap_or_else(|_| PathBuf::from("."))
        .join("device.db")
}

pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let device_name = std::env::var("LIFEBRIDGE_DEVICE_NAME")
                .unwrap_or_else(|_| "unnamed-device".to_owned());
            let mut state = AppState::new(store_path(app), device_name);
            if let Ok(facility) = std::env::var("LIFEBRIDGE_FACILITY_NAME") {
                state.facility_name = facility;
            }
            if let Some(minutes) = std::env::var("LIFEBRIDGE_IDLE_MINUTES")
                .ok()
                .and_then(|m| m.trim().parse::<u64>().ok())
                .filter(|m| *m > 0)
            {
                state = state.with_idle_timeout(std::time::Duration::from_secs(minutes * 60));
            }
            let opened = match std::env::var("LIFEBRIDGE_STORE_KEY") {
                Ok(passphrase) if !passphrase.is_empty() => {
                    let key = lifebridge_store::StoreKey::new(passphrase)?;
                    Some(
                        state
                            .unlock(&key)
                            .map_err(|e| format!("cannot open the store: {}", e.message))?,
                    )
                }
                _ => None,
            };
            app.manage(state);
            if let Some(store) = opened {
                sync::start(app.handle(), store);
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::app_status,
            commands::session::unlock,
            commands::session::create_store,
            commands::session::lock_device,
            commands::session::screen_options,
            commands::session::list_staff,
            commands::session::add_staff,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::session::todays_drives,
            commands::session::start_drive,
            commands::session::end_drive,
            commands::checkin::check_document,
            commands::checkin::find_donors,
            commands::checkin::register_donor,
            commands::checkin::donor_overview,
            commands::checkin::check_in,
            commands::checkin::chair_queue,
            commands::checkin::drive_appointments,
            commands::checkin::read_prefill,
            commands::checkin::check_in_prefilled,
            commands::checkin::prefilled_answers,
            commands::checkin::scan_camera,
            commands::screening::evaluate_screening,
            commands::screening::record_screening,
            commands::screening::consent_text,
            commands::screening::deferral_catalogue,
            commands::screening::current_questionnaire,
            commands::screening::save_deferral_slip,
            commands::collection::start_collection,
            commands::collection::finish_collection,
            commands::collection::volume_from_scale,
            commands::summary::drive_summary,
            commands::collection::label_status,
            commands::collection::print_labels,
            commands::collection::scan_label,
            commands::collection::manual_label_entry,
            commands::collection::release_donation,
            commands::session::sync_status,
            commands::session::sync_now,
            commands::summary::export_drive_summary,
            commands::summary::drive_label_account,
            commands::collection::label_previews,
            commands::transport::transport_view,
            commands::transport::open_box,
            commands::transport::pack_bag,
            commands::transport::pack_bag_manual,
            commands::transport::unpack_bag,
            commands::transport::record_temperature,
            commands::transport::import_logger_csv,
            commands::transport::dispatch,
            commands::transport::manifest,
            commands::transport::save_manifest_pdf,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("lifebridge-app: {e}");
        std::process::exit(1);
    }
}
