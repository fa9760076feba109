/*
 * ctl_api.h - loyaltyctl's staff operations (issue 5 part 3), done by calling loyalty-admin's
 * HTTP API, so that every rule (roles, validation, idempotency, optimistic concurrency) lives in
 * one place - the admin server - and every change lands in the audit trail under the staff
 * member's name. Part of the loyaltyctl program only (gateway/ctl.c dispatches here). Owner: the
 * staff-console engineer.
 */
#ifndef CTL_API_H
#define CTL_API_H

#include <stdbool.h>
#include <stdio.h>

/* true when argv's command word (the first argument that is not an option or an option's value)
 * is one of the API commands: login, logout, whoami, subscriber, adjust, block, unblock,
 * giftdays, catalog, item, deadletters, audit. */
bool ctl_api_is_command(int argc, char **argv);

/* Runs an API command. Returns the process exit code: 0 done, 1 refused or failed (the API's
 * JSON error is printed on stderr), 2 usage. */
int ctl_api_main(int argc, char **argv);

/* The usage lines of the API commands (appended to loyaltyctl's usage). */
void ctl_api_usage(FILE *out);

#endif
