//! Lifebridge's app: a thin Tauri shell. Commands (in [`commands`]) call the store and
//! domain crates; the UI in `ui/` only displays and collects.
//!
//! Start-up configuration comes from the environment so `make run` and the end-to-end
//! tests can point the app at a demo store:
//! - `LIFEBRIDGE_STORE`: the store file (default: the app's data folder, `device.db`);
//! - `LIFEBRIDGE_STORE_KEY`: unlock at start instead of asking for the device passphrase;
//! - `LIFEBRIDGE_DEVICE_NAME`: this device's name for a new store;
//! - `LIFEBRIDGE_STATION_URL` + `LIFEBRIDGE_ENROLL_CODE`: enroll with a station at first
//!   start; `LIFEBRIDGE_STATION_CERT` pins its certificate (HTTPS); without it only a
//!   loopback `http://` station is accepted.

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
            let state = AppState::new(store_path(app), device_name);
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
            commands::app_status,
            commands::unlock,
            commands::list_staff,
            commands::add_staff,
            commands::sign_in,
            commands::sign_out,
            commands::todays_drives,
            commands::start_drive,
            commands::end_drive,
            commands::check_document,
            commands::find_donors,
            commands::register_donor,
            commands::donor_overview,
            commands::check_in,
            commands::chair_queue,
            commands::drive_appointments,
            commands::evaluate_screening,
            commands::record_screening,
            commands::deferral_catalogue,
            commands::save_deferral_slip,
            commands::start_collection,
            commands::finish_collection,
            commands::volume_from_scale,
            commands::drive_summary,
            commands::label_status,
            commands::print_labels,
            commands::scan_label,
            commands::manual_label_entry,
            commands::release_donation,
            commands::sync_status,
            commands::sync_now,
            commands::export_drive_summary,
            commands::drive_label_account,
            commands::label_previews,
            commands::transport_view,
            commands::open_box,
            commands::pack_bag,
            commands::pack_bag_manual,
            commands::unpack_bag,
            commands::record_temperature,
            commands::import_logger_csv,
            commands::dispatch,
            commands::manifest,
            commands::save_manifest_pdf,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("lifebridge-app: {e}");
        std::process::exit(1);
    }
}
