//! Residents and their personal data, audit events, WeChat accounts and binding requests.
//!
//! Phone and ID numbers are never stored in plain text: `*_cipher` holds the AEAD ciphertext
//! (nonce included), `*_key_id` the key it was sealed under, `*_hash` a keyed hash for exact
//! lookups, `*_masked` what lists show.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn pii(t: &mut TableCreateStatement, field: &str) {
    t.col(text_null(a(&format!("{field}_cipher"))))
        .col(string_len_null(a(&format!("{field}_key_id")), 16))
        .col(string_len_null(a(&format!("{field}_hash")), 64))
        .col(string_len_null(a(&format!("{field}_masked")), 32));
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut residents = Table::create();
        residents
            .table(a("residents"))
            .col(uuid(a("id")).primary_key())
            .col(uuid(a("street_id")))
            .col(uuid(a("community_id")))
            .col(uuid(a("compound_id")))
            .col(uuid(a("building_id")))
            .col(uuid(a("household_id")))
            .col(string_len(a("name"), 50))
            .col(string_len_null(a("gender"), 10))
            .col(date_null(a("birth_date")))
            .col(string_len_null(a("relation"), 20))
            .col(date_null(a("moved_in_on")))
            .col(date_null(a("moved_out_on")))
            .col(uuid_null(a("user_id")))
            .col(timestamp_with_time_zone(a("created_at")))
            .col(timestamp_with_time_zone(a("updated_at")));
        pii(&mut residents, "phone");
        pii(&mut residents, "id_number");
        residents.foreign_key(&mut fk("residents", "household_id", "households", false));
        residents.foreign_key(&mut fk("residents", "user_id", "users", false));
        m.create_table(residents.to_owned()).await?;
        for i in [
            index("residents", &["household_id"], false),
            index("residents", &["building_id"], false),
            index("residents", &["compound_id"], false),
            index("residents", &["community_id"], false),
            index("residents", &["street_id"], false),
            index("residents", &["phone_hash"], false),
            index("residents", &["id_number_hash"], true),
            index("residents", &["user_id"], true),
            index("residents", &["name"], false),
        ] {
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table(a("resident_tags"))
                .col(uuid(a("resident_id")))
                .col(string_len(a("tag"), 20))
                .primary_key(Index::create().col(a("resident_id")).col(a("tag")))
                .foreign_key(&mut fk("resident_tags", "resident_id", "residents", true))
                .to_owned(),
        )
        .await?;
        m.create_index(index("resident_tags", &["tag", "resident_id"], false))
            .await?;

        m.create_table(
            Table::create()
                .table(a("audit_events"))
                .col(uuid(a("id")).primary_key())
                .col(uuid_null(a("street_id")))
                .col(uuid_null(a("community_id")))
                .col(uuid(a("actor_id")))
                .col(string_len(a("action"), 40))
                .col(uuid_null(a("resident_id")))
                .col(string_len_null(a("field"), 20))
                .col(string_len(a("purpose"), 500))
                .col(text_null(a("detail")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        for i in [
            index("audit_events", &["community_id"], false),
            index("audit_events", &["street_id"], false),
            index("audit_events", &["resident_id"], false),
        ] {
            m.create_index(i).await?;
        }

        m.create_table(
            Table::create()
                .table(a("binding_requests"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("user_id")))
                .col(uuid(a("street_id")))
                .col(uuid(a("community_id")))
                .col(uuid(a("compound_id")))
                .col(uuid(a("building_id")))
                .col(uuid(a("household_id")))
                .col(string_len(a("name"), 50))
                .col(string_len(a("relation"), 20))
                .col(string_len(a("status"), 16))
                .col(string_len_null(a("reason"), 500))
                .col(uuid_null(a("decided_by")))
                .col(timestamp_with_time_zone_null(a("decided_at")))
                .col(uuid_null(a("resident_id")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .foreign_key(&mut fk("binding_requests", "user_id", "users", true))
                .foreign_key(&mut fk(
                    "binding_requests",
                    "household_id",
                    "households",
                    false,
                ))
                .to_owned(),
        )
        .await?;
        for i in [
            index("binding_requests", &["user_id"], false),
            index("binding_requests", &["household_id"], false),
            index("binding_requests", &["community_id", "status"], false),
        ] {
            m.create_index(i).await?;
        }

        // WeChat accounts: the app's openid (and unionid when given), and the verified phone.
        m.alter_table(
            Table::alter()
                .table(a("users"))
                .add_column(string_len_null(a("wechat_openid"), 64))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(a("users"))
                .add_column(string_len_null(a("wechat_unionid"), 64))
                .to_owned(),
        )
        .await?;
        for col in ["phone_cipher", "phone_key_id", "phone_hash", "phone_masked"] {
            let def = if col == "phone_cipher" {
                text_null(a(col))
            } else {
                string_len_null(a(col), 64)
            };
            m.alter_table(Table::alter().table(a("users")).add_column(def).to_owned())
                .await?;
        }
        m.create_index(index("users", &["wechat_openid"], true))
            .await?;
        m.create_index(index("users", &["phone_hash"], false)).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "binding_requests",
            "audit_events",
            "resident_tags",
            "residents",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        m.drop_index(
            Index::drop()
                .name("ix_users_phone_hash")
                .table(a("users"))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_users_wechat_openid")
                .table(a("users"))
                .to_owned(),
        )
        .await?;
        for col in [
            "wechat_openid",
            "wechat_unionid",
            "phone_cipher",
            "phone_key_id",
            "phone_hash",
            "phone_masked",
        ] {
            m.alter_table(
                Table::alter()
                    .table(a("users"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
