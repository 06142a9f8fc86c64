//! Routes by method, for the route table.
//!
//! actix-web's own (`web::get()` and its siblings) also record, in the request's
//! extensions, every method a guard was asked about, for the `Allow` header of a resource's
//! 405. No route here answers that 405: a method a path does not take falls through to the
//! scope's JSON 404, because the route table puts the method on the resource. So the record
//! is an allocation and a map insert per request that nobody reads (about 500 instructions
//! of a signed-in `GET /api/me`); these only compare.

use actix_web::guard::{Guard, GuardContext};
use actix_web::http::Method;
use actix_web::{web, Route};

/// True for requests with exactly this method (`HEAD` is not `GET`, as in actix-web).
struct Is(Method);

impl Guard for Is {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        ctx.head().method == self.0
    }
}

/// A route for `GET` requests.
pub fn get() -> Route {
    web::route().guard(Is(Method::GET))
}

/// A route for `POST` requests.
pub fn post() -> Route {
    web::route().guard(Is(Method::POST))
}

/// A route for `DELETE` requests.
pub fn delete() -> Route {
    web::route().guard(Is(Method::DELETE))
}

#[cfg(test)]
mod tests {
    use actix_web::{test, App, HttpResponse};

    use super::*;

    #[actix_web::test]
    async fn a_route_takes_only_its_method_and_the_scope_default_answers_the_rest() {
        let app = test::init_service(
            App::new().service(
                web::scope("/api")
                    .route("/me", get().to(|| async { HttpResponse::Ok().finish() }))
                    .route(
                        "/out",
                        post().to(|| async { HttpResponse::Created().finish() }),
                    )
                    .route(
                        "/s",
                        delete().to(|| async { HttpResponse::Accepted().finish() }),
                    )
                    .default_service(web::to(|| async { HttpResponse::NotFound().finish() })),
            ),
        )
        .await;
        let status = |method: Method, path: &'static str| {
            let req = test::TestRequest::default()
                .method(method)
                .uri(path)
                .to_request();
            let app = &app;
            async move { test::call_service(app, req).await.status().as_u16() }
        };
        assert_eq!(status(Method::GET, "/api/me").await, 200);
        assert_eq!(status(Method::HEAD, "/api/me").await, 404);
        assert_eq!(status(Method::POST, "/api/me").await, 404);
        assert_eq!(status(Method::POST, "/api/out").await, 201);
        assert_eq!(status(Method::GET, "/api/out").await, 404);
        assert_eq!(status(Method::DELETE, "/api/s").await, 202);
        assert_eq!(status(Method::PUT, "/api/s").await, 404);
    }
}
