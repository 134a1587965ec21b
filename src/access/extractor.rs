//! `AuthUser`: the HTTP extractor for the authenticated caller: the [`Actor`] the services see,
//! plus the access token's own fields (for logout and "end my other sessions").

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use uuid::Uuid;

use crate::access::actor::Actor;
use crate::access::bearer::bearer;
use crate::access::callers::{caller, Callers};
use crate::platform::error::AppError;
use crate::platform::state::AppState;

/// The authenticated caller. Dereferences to its [`Actor`], so a handler passes `&user` to a
/// service that takes `&Actor`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub actor: Actor,
    pub jti: Uuid,
    pub family: Uuid,
    /// Expiry of the access token, seconds since the epoch.
    pub token_exp: i64,
}

impl std::ops::Deref for AuthUser {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let callers = req.app_data::<web::Data<Callers>>().cloned();
        let token = bearer(req.headers()).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("no state")))?;
            let callers =
                callers.ok_or_else(|| AppError::internal(anyhow::anyhow!("no caller map")))?;
            let token = token.ok_or(AppError::Unauthorized)?;
            let claims = state.jwt.decode(&token).ok_or(AppError::InvalidToken)?;
            let actor = caller(&state, &callers, &claims).await?;
            Ok(AuthUser {
                actor,
                jti: claims.jti,
                family: claims.fam,
                token_exp: claims.exp,
            })
        })
    }
}

impl<'a> From<&'a AuthUser> for crate::platform::audit::Who<'a> {
    fn from(u: &'a AuthUser) -> Self {
        (&u.actor).into()
    }
}
