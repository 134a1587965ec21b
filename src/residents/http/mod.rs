//! Roster handlers.

pub mod io;
pub mod public_tags;
pub mod residents;
pub mod transfers;

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(residents::list_residents)
        .service(residents::get_resident_stats)
        .service(io::import_residents)
        .service(io::export_residents)
        .service(residents::create_resident)
        .service(residents::get_resident)
        .service(residents::update_resident)
        .service(residents::delete_resident)
        .service(residents::reveal_resident)
        .service(transfers::file_resident_transfer)
        .service(transfers::list_resident_transfers)
        .service(transfers::get_resident_transfer)
        .service(transfers::accept_resident_transfer)
        .service(transfers::refuse_resident_transfer)
        .service(transfers::cancel_resident_transfer)
        .service(public_tags::get_public_tags)
        .service(public_tags::put_public_tags);
}
