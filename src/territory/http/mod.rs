//! Territory: flat resources with the parent id in the body and as a list filter.
//!
//! Parents are fixed at creation (the copies of ancestor ids that make scoping one condition
//! stay true); move something by deleting and recreating it.

pub mod buildings;
pub mod communities;
pub mod compounds;
pub mod directory;
pub mod grids;
pub mod households;
pub mod property_companies;
pub mod streets;

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(streets::list_streets)
        .service(streets::create_street)
        .service(streets::get_street)
        .service(streets::update_street)
        .service(streets::delete_street)
        .service(communities::list_communities)
        .service(communities::create_community)
        .service(communities::get_community)
        .service(communities::update_community)
        .service(communities::delete_community)
        .service(property_companies::list_property_companies)
        .service(property_companies::create_property_company)
        .service(property_companies::get_property_company)
        .service(property_companies::update_property_company)
        .service(property_companies::delete_property_company)
        .service(compounds::list_compounds)
        .service(compounds::create_compound)
        .service(compounds::get_compound)
        .service(compounds::update_compound)
        .service(compounds::delete_compound)
        .service(grids::list_grids)
        .service(grids::create_grid)
        .service(grids::get_grid)
        .service(grids::update_grid)
        .service(grids::delete_grid)
        .service(buildings::list_buildings)
        .service(buildings::create_building)
        .service(buildings::get_building)
        .service(buildings::update_building)
        .service(buildings::delete_building)
        .service(households::list_households)
        .service(households::create_household)
        .service(households::get_household)
        .service(households::update_household)
        .service(households::delete_household)
        .service(directory::directory_communities)
        .service(directory::directory_compounds)
        .service(directory::directory_buildings)
        .service(directory::directory_households);
}
