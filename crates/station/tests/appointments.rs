//! Appointments: a booking list imported at the station reaches the vehicles, shows on
//! the drive it belongs to, says who has arrived, and a cancellation replaces it.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Backend, enroll, start};
use lifebridge_domain::china_date;
use lifebridge_station::appointments::parse_csv;

async fn bookings_reach_the_drive_they_belong_to(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-APPT").await;
    bus.seed(2);
    let today = china_date(chrono::Utc::now());
    let (drive, arrived_id) = {
        let s = bus.store.lock().unwrap();
        let drive = s.drives_on(today).unwrap().pop().unwrap();
        let queue = s.chair_queue(drive.id).unwrap();
        let doc = queue[0].donor.document.number().to_owned();
        (drive, doc)
    };
    let site = &drive.site_name;
    let csv = format!(
        "日期,时间,地点,姓名,证件号码,电话\n\
         {today},10:30,{site},已到者,{arrived_id},\n\
         {today},09:00,{site},张伟,11010519491231002X,13800138000\n\
         {today},09:00,西关村,李娜,11010519491231002X,\n"
    );
    let appointments = parse_csv(&csv, today).unwrap();
    let now = chrono::Utc::now();
    assert_eq!(
        ts.storage
            .publish_appointments(&appointments, now)
            .await
            .unwrap(),
        3
    );
    // The same list again sends nothing new.
    assert_eq!(
        ts.storage
            .publish_appointments(&appointments, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(ts.storage.appointments_on(today).await.unwrap().len(), 3);

    // What the crew's tablet lists for the drive.
    let drive_appointments = || {
        bus.store
            .lock()
            .unwrap()
            .drive_appointments(drive.id)
            .unwrap()
    };
    bus.replicator(&url).sync_once().await.unwrap();
    let listed = drive_appointments();
    let names: Vec<&str> = listed.iter().map(|e| e.appointment.name.as_str()).collect();
    assert_eq!(
        names,
        ["张伟", "已到者"],
        "booked time order, this site only"
    );
    assert!(!listed[0].arrived && listed[0].donor.is_none());
    assert!(listed[1].arrived && listed[1].donor.is_some());

    // A cancellation is the same appointment sent again; the crew sees it cancelled.
    let cancelled = parse_csv(
        &format!("date,time,site,name,document,cancelled\n{today},09:00,{site},张伟,11010519491231002X,yes\n"),
        today,
    )
    .unwrap();
    assert_eq!(
        ts.storage
            .publish_appointments(&cancelled, chrono::Utc::now())
            .await
            .unwrap(),
        1
    );
    bus.replicator(&url).sync_once().await.unwrap();
    let listed = drive_appointments();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].appointment.cancelled);
    let at_station = ts.storage.appointments_on(today).await.unwrap();
    assert!(at_station.iter().any(|a| a.name == "张伟" && a.cancelled));
    // Appointments are the station's records: nothing entered the device's change log.
    let s = bus.store.lock().unwrap();
    let logged: i64 = s
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM change_log WHERE entity = 'appointment'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 0);
}

both_backends! {
    bookings_reach_the_drive_they_belong_to => crate::bookings_reach_the_drive_they_belong_to;
}
