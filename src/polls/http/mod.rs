//! Polls through HTTP: managing them, voting, the roll, paper boxes and results. The rules
//! live in `polls::service`, the read models in `polls::query`; these handlers parse, call one
//! of them and answer.

pub mod boxes;
pub mod manage;
pub mod sheet;
pub mod voting;

/// Registers this domain's handlers, literal paths before templates that would also match.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(manage::list_polls)
        .service(manage::create_poll)
        .service(voting::list_my_polls)
        .service(manage::get_poll)
        .service(manage::update_poll)
        .service(manage::schedule_poll)
        .service(manage::open_poll)
        .service(manage::close_poll)
        .service(manage::cancel_poll)
        .service(voting::cast_ballot)
        .service(voting::get_my_ballot)
        .service(voting::get_poll_results)
        .service(sheet::get_poll_result_sheet)
        .service(voting::get_anonymous_ballots)
        .service(boxes::list_poll_roll)
        .service(boxes::add_poll_voter)
        .service(boxes::strike_poll_voter)
        .service(boxes::admit_poll_voter)
        .service(boxes::create_poll_box)
        .service(boxes::mark_poll_voter)
        .service(boxes::enter_box_counts)
        .service(boxes::confirm_box_counts)
        .service(boxes::recount_poll);
}
