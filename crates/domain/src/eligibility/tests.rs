use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn age_counts_completed_years() {
    let b = day(2000, 5, 10);
    assert_eq!(age_in_years(b, day(2018, 5, 9)), 17);
    assert_eq!(age_in_years(b, day(2018, 5, 10)), 18);
    let leap = day(2008, 2, 29);
    assert_eq!(age_in_years(leap, day(2026, 2, 28)), 17);
    assert_eq!(age_in_years(leap, day(2026, 3, 1)), 18);
    assert_eq!(age_in_years(leap, day(2028, 2, 29)), 20);
    assert_eq!(nth_birthday(leap, 18), Some(day(2026, 3, 1)));
    assert_eq!(nth_birthday(leap, 20), Some(day(2028, 2, 29)));
    assert_eq!(nth_birthday(b, 18), Some(day(2018, 5, 10)));
}

#[test]
fn reason_codes_serialise_as_their_stable_names() {
    for code in ReasonCode::ALL {
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, Value::String(code.as_str().to_owned()));
        let back: ReasonCode = serde_json::from_value(json).unwrap();
        assert_eq!(back, code);
    }
}

#[test]
fn lang_parsing() {
    assert_eq!("zh-CN".parse::<Lang>().unwrap(), Lang::ZhCn);
    assert_eq!("zh_cn".parse::<Lang>().unwrap(), Lang::ZhCn);
    assert_eq!("EN".parse::<Lang>().unwrap(), Lang::En);
    assert!("fr".parse::<Lang>().is_err());
    assert_eq!(Lang::default(), Lang::ZhCn);
}

#[test]
fn request_error_display() {
    let e = RequestError::new(
        "vitals.weight_kg",
        "must be a number between 1 and 400 (got -3)",
    );
    assert_eq!(
        e.to_string(),
        "field vitals.weight_kg: must be a number between 1 and 400 (got -3)"
    );
}
