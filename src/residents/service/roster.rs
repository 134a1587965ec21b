//! The roster: validation of residents' data (mainland mobile numbers, 18-digit ID numbers with
//! their check digit and the birth date they encode), sealing of personal data, and writes.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::platform::error::{is_unique_violation, AppError, AppResult, FieldError};
use crate::platform::error::{FieldCode, ProblemCode};
use crate::platform::lang::Text;
use crate::platform::pii::{mask_id_number, mask_phone, Pii};
use crate::territory::model::Household;
use entity::{resident, resident_tag};

pub const NAME_MAX: usize = 50;
pub const RELATION_MAX: usize = 20;
pub const TAG_MAX: usize = 20;
pub const TAGS_MAX: usize = 20;

pub use entity::resident::Gender;

/// A mainland mobile number: 11 digits starting 13–19 (a `+86`/`86` prefix and spaces or
/// dashes are tolerated and removed).
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
        .unwrap_or(&digits)
        .to_string();
    let ok = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
    ok.then_some(digits)
}

/// What an 18-digit resident ID number encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    pub normalized: String,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Validates an ID number (GB 11643): 17 digits and a check character (a digit or X).
pub fn parse_id_number(raw: &str, now: DateTime<Utc>) -> Result<IdNumber, Text> {
    let id = raw.trim().to_ascii_uppercase();
    if id.len() != 18 || !id.is_ascii() {
        return Err(Text::new("身份证号应为 18 位", "must be 18 characters"));
    }
    let (body, check) = id.split_at(17);
    if !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Text::new(
            "身份证号前 17 位应为数字",
            "the first 17 characters must be digits",
        ));
    }
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if !check.starts_with(expected) {
        return Err(Text::new(
            "身份证号校验位不对，请核对",
            "the check digit does not match",
        ));
    }
    let birth = NaiveDate::parse_from_str(&body[6..14], "%Y%m%d").map_err(|_| {
        Text::new(
            "身份证号中的出生日期不是有效日期",
            "the birth date it encodes is not a date",
        )
    })?;
    if birth > now.date_naive() || birth.year() < 1890 {
        return Err(Text::new(
            "身份证号中的出生日期不合理",
            "the birth date it encodes is not plausible",
        ));
    }
    let gender = if (body.as_bytes()[16] - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Ok(IdNumber {
        normalized: id,
        birth_date: birth,
        gender,
    })
}

fn clean_text(errors: &mut Vec<FieldError>, field: &str, v: &str, max: usize) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        errors.push(FieldError::required(field));
        None
    } else if v.chars().count() > max {
        errors.push(FieldError::too_long(field, max));
        None
    } else if !v.chars().all(crate::platform::text::single_line_ok) {
        errors.push(FieldError::of(
            field,
            FieldCode::Invalid,
            crate::platform::text::bad_character(),
        ));
        None
    } else {
        Some(v.to_string())
    }
}

/// A resident's data as validated, before sealing.
#[derive(Debug, Clone, Default)]
pub struct ResidentData {
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub relation: Option<String>,
    pub tags: Vec<String>,
    pub moved_in_on: Option<NaiveDate>,
    pub moved_out_on: Option<NaiveDate>,
}

/// Raw input, as it comes from JSON or a spreadsheet row.
#[derive(Debug, Clone, Default)]
pub struct ResidentInput {
    pub name: String,
    pub gender: Option<Gender>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub relation: Option<String>,
    pub tags: Vec<String>,
    pub moved_in_on: Option<NaiveDate>,
    pub moved_out_on: Option<NaiveDate>,
}

/// Validates every field and reports every problem at once.
pub fn validate(input: ResidentInput, now: DateTime<Utc>) -> Result<ResidentData, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = clean_text(&mut errors, "name", &input.name, NAME_MAX).unwrap_or_default();
    let phone = match input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match normalize_phone(p) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::of(
                    "phone",
                    FieldCode::PhoneInvalid,
                    Text::new(
                        "手机号应为 11 位中国大陆手机号",
                        "must be a mainland mobile number of 11 digits",
                    ),
                ));
                None
            }
        },
    };
    let mut birth_date = input.birth_date;
    let mut gender = input.gender;
    let id_number = match input
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(raw) => match parse_id_number(raw, now) {
            Ok(id) => {
                match birth_date {
                    Some(b) if b != id.birth_date => errors.push(FieldError::of(
                        "birth_date",
                        FieldCode::Mismatch,
                        crate::text!(
                            "与身份证号中的出生日期 {} 不一致",
                            "the ID number encodes the birth date {}",
                            id.birth_date
                        ),
                    )),
                    _ => birth_date = Some(id.birth_date),
                }
                gender.get_or_insert(id.gender);
                Some(id.normalized)
            }
            Err(msg) => {
                errors.push(FieldError::of("id_number", FieldCode::IdNumberInvalid, msg));
                None
            }
        },
    };
    if let Some(b) = birth_date {
        if b > now.date_naive() {
            errors.push(FieldError::of(
                "birth_date",
                FieldCode::Invalid,
                Text::new("出生日期不能晚于今天", "is in the future"),
            ));
        }
    }
    let relation = input
        .relation
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .and_then(|r| clean_text(&mut errors, "relation", r, RELATION_MAX));
    let mut tags: Vec<String> = Vec::new();
    for t in &input.tags {
        if let Some(t) = clean_text(&mut errors, "tags", t, TAG_MAX) {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    if tags.len() > TAGS_MAX {
        errors.push(FieldError::too_many("tags", TAGS_MAX));
    }
    if let (Some(i), Some(o)) = (input.moved_in_on, input.moved_out_on) {
        if o < i {
            errors.push(FieldError::of(
                "moved_out_on",
                FieldCode::Invalid,
                Text::new("迁出日期不能早于迁入日期", "is before moved_in_on"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(ResidentData {
            name,
            gender,
            birth_date,
            phone,
            id_number,
            relation,
            tags,
            moved_in_on: input.moved_in_on,
            moved_out_on: input.moved_out_on,
        })
    } else {
        Err(errors)
    }
}

/// Sets the personal-data columns of `am` from `data` (sealed), leaving the rest.
pub fn apply(pii: &Pii, am: &mut resident::ActiveModel, data: &ResidentData) -> AppResult<()> {
    am.name = Set(data.name.clone());
    am.gender = Set(data.gender);
    am.birth_date = Set(data.birth_date);
    am.relation = Set(data.relation.clone());
    am.moved_in_on = Set(data.moved_in_on);
    am.moved_out_on = Set(data.moved_out_on);
    let [cipher, key, hash, masked] = sealed_columns(pii, "phone", data.phone.as_deref())?;
    am.phone_cipher = Set(cipher);
    am.phone_key_id = Set(key);
    am.phone_hash = Set(hash);
    am.phone_masked = Set(masked);
    let [cipher, key, hash, masked] = sealed_columns(pii, "id_number", data.id_number.as_deref())?;
    am.id_number_cipher = Set(cipher);
    am.id_number_key_id = Set(key);
    am.id_number_hash = Set(hash);
    am.id_number_masked = Set(masked);
    Ok(())
}

/// The four stored columns of a personal-data field: ciphertext, key id, lookup hash, mask
/// (all `None` when the value is absent).
fn sealed_columns(pii: &Pii, field: &str, value: Option<&str>) -> AppResult<[Option<String>; 4]> {
    let Some(v) = value else {
        return Ok([None, None, None, None]);
    };
    let masked = if field == "phone" {
        mask_phone(v)
    } else {
        mask_id_number(v)
    };
    let s = pii.seal(field, v, masked)?;
    Ok([Some(s.cipher), Some(s.key_id), Some(s.hash), Some(s.masked)])
}

/// The plaintext of a sealed field of `r` (`phone` or `id_number`), if set.
pub fn open(pii: &Pii, r: &resident::Model, field: &str) -> AppResult<Option<String>> {
    let (cipher, key) = match field {
        "phone" => (&r.phone_cipher, &r.phone_key_id),
        "id_number" => (&r.id_number_cipher, &r.id_number_key_id),
        _ => return Ok(None),
    };
    match (cipher, key) {
        (Some(c), Some(k)) => pii.open(field, c, k).map(Some),
        _ => Ok(None),
    }
}

/// The input a stored resident corresponds to (decrypting its personal data), for PATCH.
pub fn to_input(pii: &Pii, r: &resident::Model, tags: Vec<String>) -> AppResult<ResidentInput> {
    Ok(ResidentInput {
        name: r.name.clone(),
        gender: r.gender,
        birth_date: r.birth_date,
        phone: open(pii, r, "phone")?,
        id_number: open(pii, r, "id_number")?,
        relation: r.relation.clone(),
        tags,
        moved_in_on: r.moved_in_on,
        moved_out_on: r.moved_out_on,
    })
}

pub fn duplicate_id_number(e: sea_orm::DbErr) -> AppError {
    if is_unique_violation(&e) {
        AppError::conflict(
            ProblemCode::IdNumberRegistered,
            Text::new(
                "这个身份证号已登记",
                "a resident with this ID number is already registered",
            ),
        )
    } else {
        e.into()
    }
}

/// Inserts a new resident of the household `hh`.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    pii: &Pii,
    hh: impl Into<Household>,
    data: &ResidentData,
    now: DateTime<Utc>,
) -> AppResult<resident::Model> {
    let hh = hh.into();
    let mut am = resident::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(hh.street_id),
        community_id: Set(hh.community_id),
        compound_id: Set(hh.compound_id),
        building_id: Set(hh.building_id),
        household_id: Set(hh.id),
        user_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply(pii, &mut am, data)?;
    let m = am.insert(db).await.map_err(duplicate_id_number)?;
    set_tags(db, m.id, &data.tags).await?;
    Ok(m)
}

pub async fn set_tags<C: ConnectionTrait>(
    db: &C,
    resident_id: Uuid,
    tags: &[String],
) -> AppResult<()> {
    resident_tag::Entity::delete_many()
        .filter(resident_tag::Column::ResidentId.eq(resident_id))
        .exec(db)
        .await?;
    if !tags.is_empty() {
        resident_tag::Entity::insert_many(tags.iter().map(|t| resident_tag::ActiveModel {
            resident_id: Set(resident_id),
            tag: Set(t.clone()),
        }))
        .exec(db)
        .await?;
    }
    refresh_tags_joined(db, &[resident_id]).await
}

/// Tags of `residents`, in one query.
pub async fn tags_of<C: ConnectionTrait>(
    db: &C,
    residents: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Vec<String>>> {
    let rows = resident_tag::Entity::find()
        .filter(resident_tag::Column::ResidentId.is_in(residents.iter().copied()))
        .all(db)
        .await?;
    let mut map: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for r in rows {
        map.entry(r.resident_id).or_default().push(r.tag);
    }
    for v in map.values_mut() {
        v.sort();
    }
    Ok(map)
}

/// Separates tags in [`tags_column`]: a control character, which no tag may hold.
const TAG_SEPARATOR: char = '\u{1f}';

/// A resident's tags as one column of the resident's own row (`tags_joined`, kept by
/// [`refresh_tags_joined`]), so a page of residents comes with its tags and no second look-up.
pub fn tags_column() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::Expr;
    Expr::col((resident::Entity, resident::Column::TagsJoined)).into()
}

/// Rewrites `residents.tags_joined` of `ids` from `resident_tags`, in one statement per chunk;
/// every writer of `resident_tags` calls it in the same transaction.
pub async fn refresh_tags_joined<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> AppResult<()> {
    use sea_orm::sea_query::{Expr, Query};
    let joined = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => r#"string_agg("tag", chr(31))"#,
        sea_orm::DbBackend::Sqlite | sea_orm::DbBackend::MySql => {
            r#"group_concat("tag", char(31))"#
        }
    };
    for chunk in ids.chunks(500) {
        let aggregate = Expr::cust(format!(
            r#"(SELECT {joined} FROM "resident_tags" WHERE "resident_tags"."resident_id" = "residents"."id")"#
        ));
        let update = Query::update()
            .table(resident::Entity)
            .value(resident::Column::TagsJoined, aggregate)
            .and_where(Expr::col(resident::Column::Id).is_in(chunk.iter().copied()))
            .to_owned();
        db.execute(db.get_database_backend().build(&update)).await?;
    }
    Ok(())
}

/// A resident read with its tags ([`tags_column`] as `tags`), tags sorted.
#[derive(Debug, Clone)]
pub struct ResidentWithTags {
    pub resident: resident::Model,
    pub tags: Vec<String>,
}

impl sea_orm::FromQueryResult for ResidentWithTags {
    fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        let resident = resident::Model::from_query_result(res, pre)?;
        Ok(ResidentWithTags {
            resident,
            tags: tags_of_row(res, pre)?,
        })
    }
}

/// The tags a row read with [`tags_column`] (as `tags`) carries, sorted.
pub fn tags_of_row(res: &sea_orm::QueryResult, pre: &str) -> Result<Vec<String>, sea_orm::DbErr> {
    let joined: Option<String> = res.try_get(pre, "tags")?;
    Ok(split_tags_joined(joined.as_deref()))
}

/// The `tags_joined` value of a resident whose tags are `tags` (what [`refresh_tags_joined`]
/// would write, in sorted order: readers sort anyway), for a writer that sets the row and its
/// tags in one go.
pub fn join_tags(tags: &[String]) -> Option<String> {
    if tags.is_empty() {
        return None;
    }
    let mut sorted: Vec<&str> = tags.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    Some(sorted.join(&TAG_SEPARATOR.to_string()))
}

/// The tags in a [`tags_column`] value (a row's `tags_joined`), sorted.
pub fn split_tags_joined(joined: Option<&str>) -> Vec<String> {
    let mut tags: Vec<String> = joined
        .map(|j| j.split(TAG_SEPARATOR).map(str::to_string).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked_by_their_check_digit() {
        let ok = parse_id_number("11010519491231002X", chrono::Utc::now()).unwrap();
        assert_eq!(
            ok.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(ok.gender, Gender::Female);
        assert!(
            parse_id_number("110105194912310021", chrono::Utc::now()).is_err(),
            "bad check digit"
        );
        assert!(
            parse_id_number("11010519491331002X", chrono::Utc::now()).is_err(),
            "month 13"
        );
        assert!(
            parse_id_number("1101051949123100", chrono::Utc::now()).is_err(),
            "too short"
        );
        assert_eq!(
            parse_id_number("11010519491231002x", chrono::Utc::now())
                .unwrap()
                .normalized,
            "11010519491231002X"
        );
    }

    #[test]
    fn mobile_numbers_are_mainland_mobiles() {
        assert_eq!(
            normalize_phone("138 1234 1234").as_deref(),
            Some("13812341234")
        );
        assert_eq!(
            normalize_phone("+8613812341234").as_deref(),
            Some("13812341234")
        );
        assert!(normalize_phone("12812341234").is_none());
        assert!(normalize_phone("1381234123").is_none());
        assert!(normalize_phone("0571-87000000").is_none());
    }

    #[test]
    fn a_birth_date_that_disagrees_with_the_id_number_is_refused() {
        let err = validate(
            ResidentInput {
                name: "张三".into(),
                id_number: Some("11010519491231002X".into()),
                birth_date: NaiveDate::from_ymd_opt(1950, 1, 1),
                ..Default::default()
            },
            chrono::Utc::now(),
        )
        .unwrap_err();
        assert_eq!(err[0].field, "birth_date");
        assert_eq!(err[0].code, crate::platform::error::FieldCode::Mismatch);
    }
}
