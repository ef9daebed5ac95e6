"""The reliability catalogue's cases and the tests that cover each one.

`CASES` lists every case of the reliability and security catalogue (its id and title, in the
catalogue's order). `COVERAGE` names, for each case, the tests that exercise it, as pytest node
ids without parameters. `NOT_BUILT` names cases whose feature the app does not have, with why.
`tests/unit/test_reliability_catalogue.py` fails when a case has neither a test nor a reason, or
when a named test does not exist; a test run with `IMGSTREAM_RELIABILITY_DOC` set writes the
table case -> test -> result (see `tests/reliability/report.py`).
"""

from __future__ import annotations

CASES: list[tuple[str, str]] = [
    ("U-01", "Oversized upload, rejected while streaming"),
    ("U-02", "Size boundary"),
    ("U-03", "Zero-byte and 1-byte files"),
    ("U-04", "Truncated or corrupt JPEG"),
    ("U-05", "Decompression bomb over 2x MAX_IMAGE_PIXELS"),
    ("U-06", "Bomb between 1x and 2x, and large-but-legal images"),
    ("U-07", "PNG text-chunk bomb and huge metadata"),
    ("U-08", "Only allow-listed formats reach the parser"),
    ("U-09", "Extension and content disagree"),
    ("U-10", "Spoofed Content-Type"),
    ("U-11", "Script or HTML named as an image"),
    ("U-12", "SVG with script"),
    ("U-13", "Polyglots (JPEG + HTML tail, GIFAR)"),
    ("U-14", "Attacker text inside JPEG/PNG metadata survives into the thumbnail"),
    ("U-15", "Malicious EXIF strings rendered in the UI"),
    ("U-16", "Huge or looping EXIF blocks"),
    ("U-17", "GPS privacy in what gets served"),
    ("U-18", "EXIF orientation 1-8"),
    ("U-19", "Unusual colour modes"),
    ("U-20", "Animated GIF/WebP with thousands of frames"),
    ("U-21", "Path traversal and separators in the filename"),
    ("U-22", "NUL, control, bidi and zero-width characters in filenames"),
    ("U-23", "Very long and reserved filenames"),
    ("U-24", "Unicode lookalike names and collision handling"),
    ("U-25", "Many small files in one request"),
    ("U-26", "Upload flood (rate and quota)"),
    ("U-27", "Duplicate content"),
    ("A-01..A-05", "IDOR on every object-scoped action"),
    ("A-06", "Signed URLs are per object, short-lived and not guessable"),
    ("A-07", "A deleted photo's signed URL"),
    ("A-08..A-17", "IAP JWT validation failure modes"),
    ("A-20", "The JWT expires during a live Reflex WebSocket"),
    ("A-21", "Token hijack and state binding"),
    ("A-22", "WebSocket Origin check (cross-site WebSocket hijacking)"),
    ("A-23", "CSRF on HTTP endpoints"),
    ("A-24", "Dev-mode auth bypass can never run in production"),
    ("A-25", "Unsigned x-goog-authenticated-user-email is ignored"),
    ("A-26", "/health exposure"),
    ("A-27", "Rate limiting"),
    ("F-01", "Crash after the blob is stored, before the DB commit (orphan blob)"),
    ("F-02", "DB row committed, blob missing (dangling row)"),
    ("F-03", "Transient GCS errors"),
    ("F-04", "Conditional writes prevent overwrites, and the retry-after-success false 412"),
    ("F-05", "Database unavailable"),
    ("F-06", "Concurrent uploads of the same filename by the same user (collision race)"),
    ("F-07", "Quota race"),
    ("F-08", "Delete while another tab views"),
    ("F-09", "Disk full in local-storage mode, and /tmp exhaustion"),
    ("F-10", "Graceful shutdown during an upload"),
    ("F-11", "State loss on reconnect must not lose data"),
    ("F-12", "Multiple instances without shared state"),
    ("F-13", "Migrations and backups"),
    ("L-01", "What one container should hold"),
    ("L-02", "Load-testing the Reflex WebSocket (/_event)"),
    ("L-03", "Plain HTTP: /health, upload endpoint, thumbnails"),
    ("S-01", "No secrets in the repo or image"),
    ("S-02", "Container runs as non-root"),
    ("S-03", "Pinned, hash-verified dependencies"),
    ("S-04", "Known-vulnerability scan"),
    ("S-05", "Production config assertions"),
    ("SH-01", "Share tokens are unguessable and stored hashed"),
    ("SH-02", "A share link reaches only what it shares"),
    ("SH-03", "Expired, revoked and unknown links"),
    ("SH-04", "Share passwords"),
    ("SH-05", "Location and camera data in shared photos"),
    ("SH-06", "Share routes outside IAP accept nothing else"),
    ("K-01", "API keys"),
    ("K-02", "Rate limits hold across workers"),
    ("Q-01", "Search input"),
    ("Q-02", "Page and cursor abuse"),
    ("Z-01", "ZIP downloads"),
    ("Z-02", "Bulk actions"),
]

_U = "tests/unit"
_S = "tests/unit/services"
_IM = "tests/unit/services/imaging"
_API = "tests/unit/api"
_I = "tests/integration"
_E = "tests/e2e"
_F = "tests/faults"

COVERAGE: dict[str, list[str]] = {
    "U-01": [
        f"{_S}/test_chunked_uploads.py::test_an_oversized_chunk_is_refused_while_reading",
        f"{_S}/test_chunked_uploads.py::test_a_chunk_past_the_announced_size_is_refused",
        f"{_API}/test_uploads.py::test_oversized_chunks_are_refused",
        f"{_API}/test_uploads.py::test_a_huge_json_body_is_refused",
        f"{_I}/test_chunk_protocol.py::test_chunk_protocol_on_sqlite",
        f"{_E}/test_big_uploads.py::test_a_60_mb_photo_arrives_in_chunks_byte_identical",
    ],
    "U-02": [
        f"{_S}/test_spooling.py::test_exactly_at_the_limit_is_accepted",
        f"{_S}/test_spooling.py::test_limit_is_enforced_while_reading_and_nothing_is_left",
        f"{_S}/test_chunked_uploads.py::test_begin_refuses_files_over_the_limit",
    ],
    "U-03": [
        f"{_IM}/test_limits.py::test_bad_input_is_one_domain_error",
        f"{_S}/test_chunked_uploads.py::test_begin_refuses_empty_files",
        f"{_S}/test_chunked_uploads.py::test_an_empty_chunk_is_refused",
    ],
    "U-04": [
        f"{_IM}/test_limits.py::test_bad_input_is_one_domain_error",
        f"{_IM}/test_derivatives.py::test_truncated_large_images_are_refused",
        f"{_IM}/test_fuzz.py::test_mutated_images_only_raise_the_domain_error",
        f"{_S}/test_ingest.py::test_bad_files_leave_nothing_behind",
    ],
    "U-05": [
        f"{_IM}/test_limits.py::test_decompression_bombs_are_refused_before_decoding",
        f"{_IM}/test_bombs.py::test_a_bomb_in_every_accepted_format_is_refused_before_decoding",
        f"{_I}/test_chunk_protocol.py::test_bombs_sent_through_the_chunk_api_store_nothing",
    ],
    "U-06": [
        f"{_IM}/test_limits.py::test_decompression_bombs_are_refused_before_decoding",
        f"{_IM}/test_limits.py::test_pixel_cap_counts_exactly",
        f"{_IM}/test_bombs.py::test_a_bomb_in_every_accepted_format_is_refused_before_decoding",
    ],
    "U-07": [f"{_IM}/test_limits.py::test_bad_input_is_one_domain_error"],
    "U-08": [
        f"{_IM}/test_limits.py::test_formats_not_allowed_never_reach_pillow",
        f"{_IM}/test_formats.py::test_sniff_format_reads_the_bytes",
    ],
    "U-09": [
        f"{_IM}/test_formats.py::test_sniff_format_reads_the_bytes",
        f"{_IM}/test_formats.py::test_storage_gives_each_extension_the_content_type_imaging_does",
    ],
    "U-10": [
        f"{_IM}/test_formats.py::test_sniff_format_reads_the_bytes",
        f"{_API}/test_media.py::test_signed_url_serves_the_exact_bytes_inline",
    ],
    "U-11": [
        f"{_IM}/test_limits.py::test_bad_input_is_one_domain_error",
        f"{_E}/test_upload_gallery.py::test_bad_files_are_refused_one_by_one_and_leave_nothing",
    ],
    "U-12": [f"{_IM}/test_limits.py::test_bad_input_is_one_domain_error"],
    "U-13": [
        f"{_IM}/test_derivatives.py::test_derivatives_carry_no_metadata_comments_or_trailing_bytes",
    ],
    "U-14": [
        f"{_IM}/test_derivatives.py::test_derivatives_carry_no_metadata_comments_or_trailing_bytes",
    ],
    "U-15": [
        f"{_IM}/test_metadata.py::test_exif_text_is_sanitised",
        f"{_IM}/test_metadata.py::test_hostile_exif_strings_are_stripped_and_capped",
    ],
    "U-16": [
        f"{_IM}/test_metadata.py::test_damaged_exif_means_no_exif_not_a_refusal",
        f"{_IM}/test_fuzz.py::test_random_exif_never_refuses_a_good_image",
    ],
    "U-17": [
        f"{_S}/test_shared_originals.py::test_jpeg_loses_gps_serials_and_xmp_and_keeps_every_image_byte",
        f"{_API}/test_shares.py::test_visitor_sees_the_album_viewer_media_and_zip_without_location",
    ],
    "U-18": [
        f"{_IM}/test_derivatives.py::test_every_orientation_ends_upright",
        f"{_IM}/test_derivatives.py::test_heic_with_exif_orientation_is_not_rotated_twice",
    ],
    "U-19": [
        f"{_IM}/test_colour.py::test_colour_modes_make_thumbnails",
        f"{_IM}/test_colour.py::test_16_bit_is_scaled_not_clipped",
        f"{_IM}/test_colour.py::test_cmyk_jpeg_renders_in_rgb",
    ],
    "U-20": [
        f"{_IM}/test_limits.py::test_absurd_gif_frame_count_is_refused_quickly",
        f"{_IM}/test_limits.py::test_gif_total_pixels_over_all_frames_are_capped",
        f"{_IM}/test_limits.py::test_animated_webp_frame_count_is_capped",
    ],
    "U-21": [
        f"{_S}/test_spooling.py::test_display_name",
        f"{_S}/test_storage.py::test_keys_of_the_wrong_shape_are_refused",
        f"{_API}/test_shares.py::test_archive_names_are_safe_and_unique",
    ],
    "U-22": [
        f"{_S}/test_spooling.py::test_display_name",
        f"{_API}/test_media.py::test_content_disposition_cannot_inject_headers",
    ],
    "U-23": [
        f"{_S}/test_spooling.py::test_long_names_are_cut_at_a_character_boundary_keeping_the_extension",
    ],
    "U-24": [
        f"{_S}/test_ingest.py::test_a_second_photo_with_the_same_name_is_kept_as_both",
        f"{_S}/test_collisions.py::test_keep_both_numbers_the_new_photo",
    ],
    "U-25": [f"{_E}/test_big_uploads.py::test_at_most_three_files_upload_at_once"],
    "U-26": [
        f"{_API}/test_upload_limits.py::test_u26_two_hundred_announced_uploads_do_not_pass_the_quota",
        f"{_API}/test_upload_limits.py::test_u26_one_more_open_upload_than_allowed_is_429",
        f"{_I}/test_upload_reservations.py::test_u26_parallel_begins_cannot_pass_the_cap_on_open_uploads",
        f"{_API}/test_upload_limits.py::test_u26_the_upload_page_keeps_to_the_same_cap_on_open_uploads",
        f"{_S}/test_upload_reservations.py::test_u26_announced_sizes_count_against_the_quota",
        f"{_S}/test_upload_reservations.py::test_u26_open_uploads_are_capped_per_person",
        f"{_S}/test_upload_reservations.py::test_u26_expired_uploads_give_their_reservation_back",
        f"{_S}/test_upload_reservations.py::test_u26_the_app_sweeps_on_a_schedule",
        f"{_U}/test_app.py::test_u26_the_app_sweeps_expired_uploads_while_it_runs",
    ],
    "U-27": [
        f"{_S}/test_ingest.py::test_same_bytes_twice_are_not_stored_again",
        f"{_E}/test_upload_gallery.py::test_the_same_photo_twice_links_to_the_one_in_the_library",
    ],
    "A-01..A-05": [
        f"{_S}/test_ingest.py::test_timeline_and_detail_are_scoped_to_the_owner",
        f"{_S}/test_trash.py::test_other_users_cannot_touch_someone_elses_photos",
        f"{_S}/test_albums.py::test_another_persons_album_and_photos_are_out_of_reach",
        f"{_API}/test_uploads.py::test_someone_elses_upload_is_not_found",
        f"{_API}/test_media.py::test_another_users_url_is_not_found",
        f"{_E}/test_isolation.py::test_another_user_sees_nothing_of_mine",
    ],
    "A-06": [
        f"{_S}/test_media_urls.py::test_tampered_urls_are_refused",
        f"{_S}/test_media_urls.py::test_expired_url_is_refused",
        f"{_I}/test_gcs_storage.py::test_url_for_expires_on_a_window_boundary_and_changes_with_the_window",
    ],
    "A-07": [
        f"{_S}/test_trash.py::test_trashed_photo_leaves_timeline_and_detail_but_keeps_its_objects",
        f"{_S}/test_media_urls.py::test_expired_url_is_refused",
    ],
    "A-08..A-17": [
        f"{_S}/test_identity.py::test_bad_claims_are_refused",
        f"{_S}/test_identity.py::test_alg_none",
        f"{_S}/test_identity.py::test_hs256_signed_with_the_public_key",
        f"{_S}/test_identity.py::test_rs256_header_with_the_ec_key",
        f"{_S}/test_identity.py::test_foreign_key_with_the_same_kid",
        f"{_S}/test_identity.py::test_tampered_payload",
        f"{_S}/test_identity.py::test_unknown_kid_refetches_once_then_refuses",
        f"{_S}/test_identity.py::test_certs_endpoint_down_fails_closed",
        f"{_S}/test_identity.py::test_garbage",
        f"{_API}/test_identity.py::test_no_assertion_is_401",
        f"{_API}/test_identity.py::test_expired_assertion_is_401",
        f"{_API}/test_identity.py::test_key_outage_is_503_never_a_pass",
    ],
    "A-20": [
        f"{_API}/test_identity.py::test_socket_handshake_needs_a_valid_assertion",
        f"{_I}/test_production_profile.py::test_expired_or_foreign_assertions_are_401",
    ],
    "A-21": [
        f"{_API}/test_identity.py::test_client_tokens_are_namespaced_by_user",
        f"{_API}/test_identity.py::test_a21_anonymous_client_cannot_take_over_a_signed_in_token",
        f"{_API}/test_identity.py::test_a21_anonymous_browsers_with_remembered_addresses_are_apart",
        f"{_S}/test_identity.py::test_a21_state_namespaces_keep_people_and_anonymous_browsers_apart",
        f"{_E}/test_web_security.py::test_a21_an_anonymous_client_with_a_closed_tabs_token_gets_an_empty_state",
    ],
    "A-22": [
        f"{_U}/test_config.py::test_a22_development_allows_only_its_own_frontend_origin",
        f"{_U}/test_config.py::test_a22_the_frontend_origin_follows_reflex_ports_and_urls",
        f"{_U}/test_config.py::test_a22_no_profile_allows_every_origin",
        f"{_I}/test_production_profile.py::test_socket_from_another_origin_is_refused",
        f"{_E}/test_web_security.py::test_a22_socket_handshake_from_another_origin_is_403",
        f"{_E}/test_web_security.py::test_a22_cors_preflight_does_not_echo_a_foreign_origin",
        f"{_E}/test_upload_api.py::test_a22_a_page_on_any_other_origin_cannot_call_the_api",
    ],
    "A-23": [
        f"{_API}/test_uploads.py::test_changes_from_another_site_are_refused",
        f"{_API}/test_uploads.py::test_a_form_post_cannot_begin_an_upload",
        f"{_API}/test_identity.py::test_a23_sign_in_from_another_site_is_refused",
        f"{_API}/test_identity.py::test_a23_sign_out_is_a_post_from_the_app_only",
        f"{_E}/test_web_security.py::test_a23_sign_in_and_out_from_another_site_are_refused",
        # Security headers: no page, API answer or photo can be framed or sniffed elsewhere.
        f"{_API}/test_headers.py::test_a23_every_answer_carries_the_security_headers",
        f"{_API}/test_headers.py::test_a23_a_route_keeps_its_own_policy",
        f"{_API}/test_headers.py::test_a23_policy_allows_the_backend_socket_and_photo_sources",
        f"{_API}/test_headers.py::test_a23_production_policy_names_only_the_public_origin",
        f"{_I}/test_production_profile.py::test_a23_production_answers_carry_the_security_headers",
        f"{_E}/test_web_security.py::test_a23_pages_api_media_and_probes_carry_security_headers",
        f"{_E}/test_web_security.py::test_a23_the_app_works_under_its_policy",
    ],
    "A-24": [
        f"{_U}/test_config.py::test_development_sign_in_refuses_production_and_cloud_run",
        f"{_API}/test_identity.py::test_development_sign_in_route_is_gone_in_production",
        f"{_API}/test_identity.py::test_forged_development_cookie_is_ignored",
        f"{_S}/test_identity.py::test_a24_development_cookie_expires_after_its_maximum_age",
        f"{_S}/test_identity.py::test_a24_development_cookie_accepts_only_the_canonical_user_id",
        f"{_S}/test_identity.py::test_a24_development_cookie_accepts_only_canonical_time",
        f"{_API}/test_identity.py::test_a24_expired_development_cookie_signs_nobody_in",
        f"{_S}/test_identity.py::test_a24_known_emails_cookie_round_trip_and_forgery",
        f"{_S}/test_identity.py::test_a24_remembered_emails_are_most_recent_first_and_bounded",
        f"{_API}/test_identity.py::test_a24_sign_in_remembers_the_addresses_of_this_browser_only",
        f"{_E}/test_web_security.py::test_a24_the_sign_in_page_lists_only_this_browsers_addresses",
    ],
    "A-25": [f"{_API}/test_identity.py::test_unsigned_identity_headers_are_ignored"],
    "A-26": [
        f"{_API}/test_identity.py::test_probes_need_no_sign_in",
        f"{_I}/test_production_profile.py::test_health_checks_the_database_the_bucket_and_signing_without_sign_in",
    ],
    "A-27": [
        f"{_S}/test_shares.py::test_wrong_passwords_are_limited_per_link_and_per_client",
        f"{_API}/test_upload_limits.py::test_u26_one_more_open_upload_than_allowed_is_429",
    ],
    "F-01": [
        f"{_I}/test_crash_consistency.py::test_sigkill_at_each_step",
        f"{_S}/test_reconcile.py::test_finds_and_repairs_every_kind_of_disagreement",
    ],
    "F-02": [
        f"{_S}/test_reconcile.py::test_finds_and_repairs_every_kind_of_disagreement",
        f"{_S}/test_chunked_uploads.py::test_a_lost_chunk_rewinds_the_upload_to_it",
    ],
    "F-03": [
        f"{_I}/test_gcs_storage.py::test_transient_errors_are_retried",
        f"{_I}/test_gcs_storage.py::test_persistent_errors_give_up_at_the_deadline",
        f"{_API}/test_uploads.py::test_storage_outages_answer_503_and_the_chunk_can_be_sent_again",
        f"{_F}/test_faults.py::test_storage_unreachable_for_30_seconds",
    ],
    "F-04": [
        f"{_I}/test_gcs_storage.py::test_writes_are_create_only",
        f"{_I}/test_gcs_storage.py::test_a_retry_that_gets_412_after_its_own_upload_succeeded_is_not_a_conflict",
        f"{_I}/test_gcs_storage.py::test_a_retry_that_gets_412_from_another_writers_object_is_a_conflict",
        f"{_I}/test_chunk_protocol.py::test_chunk_protocol_on_sqlite",
    ],
    "F-05": [
        f"{_API}/test_health.py::test_a_failing_database_is_named",
        f"{_F}/test_faults.py::test_postgresql_restarted",
        f"{_I}/test_slow_uploads.py::test_l03_fifty_trickling_uploads_leave_health_the_timeline_and_uploads_answering",
    ],
    "F-06": [
        f"{_I}/test_database.py::test_parallel_uploads_of_one_name_never_share_it",
        f"{_E}/test_collisions.py::test_two_tabs_uploading_one_name_at_once_ask_the_later_one",
    ],
    "F-07": [
        f"{_I}/test_database.py::test_parallel_uploads_cannot_both_pass_the_quota",
        f"{_I}/test_upload_reservations.py::test_f07_parallel_begins_cannot_promise_more_than_the_quota",
    ],
    "F-08": [
        f"{_S}/test_trash.py::test_trashed_photo_leaves_timeline_and_detail_but_keeps_its_objects",
        f"{_I}/test_trash.py::test_a_restore_racing_a_purge_never_restores_a_photo_without_objects",
    ],
    "F-09": [
        f"{_S}/test_spooling.py::test_limit_is_enforced_while_reading_and_nothing_is_left",
        f"{_S}/test_ingest.py::test_a_failed_write_removes_what_was_written",
        f"{_F}/test_faults.py::test_local_disk_full",
    ],
    "F-10": [
        "tests/image/test_container.py::test_sigterm_lets_the_request_in_flight_finish_and_stops_within_ten_seconds",
        f"{_F}/test_faults.py::test_worker_killed_mid_upload_resumes_on_the_other",
    ],
    "F-11": [
        f"{_F}/test_faults.py::test_redis_restarted_under_a_connected_tab",
        f"{_E}/test_big_uploads.py::test_a_reload_lists_the_unfinished_upload_and_picking_the_file_resumes_it",
    ],
    "F-12": [
        f"{_E}/test_scale_out.py::test_two_workers_upload_and_browse",
        f"{_F}/test_faults.py::test_worker_killed_mid_upload_resumes_on_the_other",
        f"{_F}/test_faults.py::test_redis_restarted_under_a_connected_tab",
        "tests/deploy/test_terraform.py::test_cloud_run_probes_health_keeps_sessions_and_sizes_memory_for_the_worst_ingest",
    ],
    "F-13": [
        f"{_U}/test_migrations.py::test_upgrade_keeps_photos_and_matches_the_models",
        f"{_I}/test_database.py::test_migrations_build_the_schema_the_models_describe",
    ],
    "L-01": [f"{_U}/test_load_bench.py::test_the_load_bench_runs_every_action_and_reports_them"],
    "L-02": [
        f"{_U}/test_load_bench.py::test_the_load_bench_runs_every_action_and_reports_them",
        f"{_U}/test_load_bench.py::test_event_names_come_from_the_apps_states",
    ],
    "L-03": [
        f"{_I}/test_slow_uploads.py::test_l03_fifty_trickling_uploads_leave_health_the_timeline_and_uploads_answering",
        f"{_F}/test_faults.py::test_slow_client_trickling_a_chunk",
        f"{_I}/test_short_transactions.py::test_l03_no_connection_idles_in_a_transaction_while_a_24_mp_photo_is_ingested",
        f"{_E}/test_big_uploads.py::test_l03_a_chunk_answered_408_is_sent_again",
    ],
    "S-01": ["tests/deploy/test_terraform.py::test_the_pipeline_deploys_with_workload_identity_and_no_keys"],
    "S-02": ["tests/image/test_container.py::test_the_image_serves_health_and_the_built_frontend_as_a_user_other_than_root"],
    "S-03": ["tests/deploy/test_pipeline.py::test_ci_runs_the_readme_test_command_and_deploy_uses_workload_identity"],
    "S-04": [
        # The advisory floors; the pip-audit scan itself needs the advisory database online.
        f"{_U}/test_dependency_floors.py::test_the_lock_and_the_installed_packages_meet_the_advisory_floors",
    ],
    "S-05": [
        f"{_U}/test_config.py::test_production_names_what_is_missing",
        f"{_U}/test_config.py::test_production_lists_everything_missing_at_once",
        f"{_I}/test_production_profile.py::test_the_app_refuses_to_start",
        f"{_IM}/test_libraries.py::test_configure_sets_every_library_up",
    ],
    "SH-01": [f"{_S}/test_shares.py::test_token_is_random_and_only_its_hash_is_stored"],
    "SH-02": [
        f"{_S}/test_shares.py::test_a_link_shows_only_what_it_shares",
        f"{_API}/test_shares.py::test_changing_any_id_token_or_key_reaches_nothing_else",
    ],
    "SH-03": [
        f"{_S}/test_shares.py::test_unknown_revoked_and_expired_links",
        f"{_API}/test_shares.py::test_expired_is_410_revoked_and_unknown_are_the_same_404",
    ],
    "SH-04": [
        f"{_S}/test_shares.py::test_password_is_hashed_slowly_and_the_cookie_opens_that_link_only",
        f"{_API}/test_shares.py::test_wrong_then_right_password_and_the_cookie_opens_that_link_only",
        f"{_API}/test_shares.py::test_wrong_passwords_are_throttled_per_client",
    ],
    "SH-05": [
        f"{_API}/test_shares.py::test_visitor_sees_the_album_viewer_media_and_zip_without_location",
        f"{_API}/test_shares.py::test_show_location_keeps_gps_in_pages_and_files",
    ],
    "SH-06": [
        f"{_API}/test_shares.py::test_share_paths_carry_no_identity_and_no_socket",
        "tests/deploy/test_terraform.py::test_everything_but_shares_and_health_is_behind_iap",
    ],
    "K-01": [
        f"{_S}/test_api_keys.py::test_a_key_carries_256_random_bits_and_only_their_hash_is_kept",
        f"{_S}/test_api_keys.py::test_a_key_authenticates_with_exactly_its_scopes",
        f"{_S}/test_api_keys.py::test_a_wrong_or_malformed_key_is_refused",
        f"{_S}/test_api_keys.py::test_revoked_and_expired_keys_stop_working",
        f"{_S}/test_api_keys.py::test_only_the_owner_revokes_a_key",
        f"{_API}/test_v1_keys.py::test_a_key_without_the_scope_gets_403_naming_it",
        f"{_API}/test_v1_keys.py::test_unknown_revoked_and_malformed_keys_are_401",
        f"{_API}/test_v1_keys.py::test_a_key_cannot_mint_a_key",
        f"{_API}/test_v1_keys.py::test_keys_are_made_listed_and_revoked_with_a_sign_in",
        f"{_API}/test_v1_keys.py::test_keys_are_never_logged",
        f"{_E}/test_api_keys.py::test_a_key_made_in_settings_works_until_revoked",
    ],
    "K-02": [
        f"{_I}/test_api_rate_limits.py::test_workers_share_the_counts_in_redis",
        f"{_I}/test_api_rate_limits.py::test_upload_bytes_are_counted_in_redis",
        f"{_API}/test_v1_keys.py::test_too_many_requests_are_429_with_retry_after",
        f"{_API}/test_v1_keys.py::test_chunk_bytes_count_toward_the_hourly_limit",
    ],
    "Q-01": [
        f"{_S}/test_search.py::test_words_match_the_start_of_any_searched_column",
        f"{_S}/test_search.py::test_bad_searches_say_why",
        f"{_S}/test_search.py::test_hostile_search_syntax_finds_words_or_nothing",
        f"{_S}/test_search.py::test_any_search_text_is_results_or_a_reason",
        f"{_I}/test_search_and_edits.py::test_hostile_search_syntax_on_both_databases",
    ],
    "Q-02": [
        f"{_S}/test_ingest.py::test_malformed_cursor_is_ignored",
        f"{_S}/test_trash.py::test_malformed_trash_cursor_is_ignored",
        f"{_API}/test_uploads_bad_input.py::test_q02_offsets_other_than_ascii_digits_are_refused",
        f"{_API}/test_uploads_bad_input.py::test_q02_any_offset_is_a_clear_answer",
        f"{_API}/test_uploads_bad_input.py::test_q02_malformed_json_bodies_are_400",
        f"{_API}/test_uploads_bad_input.py::test_q02_every_json_operation_answers_deep_nesting_with_a_400_problem",
        f"{_API}/test_uploads_bad_input.py::test_q02_any_body_is_a_clear_answer",
        f"{_API}/test_uploads_bad_input.py::test_q02_media_urls_accept_only_the_expiry_the_app_signs",
        f"{_API}/test_uploads_bad_input.py::test_q02_a_media_url_with_a_strange_expiry_is_403",
        f"{_API}/test_openapi_fuzz.py::test_every_operation_answers_within_its_schema",
    ],
    "Z-01": [
        f"{_API}/test_shares.py::test_archive_names_are_safe_and_unique",
        f"{_API}/test_shares.py::test_zip_is_capped_in_photos_and_bytes",
    ],
    "Z-02": [
        f"{_S}/test_trash.py::test_a_selection_moves_to_the_trash_and_back_at_once",
        f"{_S}/test_photo_edits.py::test_favourite_one_or_many_only_in_the_owners_library",
        f"{_S}/test_photo_edits.py::test_shift_moves_each_photo_by_the_same_amount_or_none",
        f"{_U}/state/test_selection.py::test_shift_click_selects_the_range_from_the_last_click_either_way",
        f"{_E}/test_everyday_use.py::test_selection_range_escape_zip_and_trash_with_undo",
    ],
}

NOT_BUILT: dict[str, str] = {}
