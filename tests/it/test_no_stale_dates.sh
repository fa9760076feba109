#!/usr/bin/env bash
# tests/it/test_no_stale_dates.sh - the guard that keeps the suite green on any day: scans tests/
# and deploy/ for literal calendar dates and fails on any that tests/it/stale_dates.allow does not
# list. A date a test uses is computed from its "now" (the real clock for anything Redis sees; the
# injected clock for pure logic); shipped samples carry no dates that can go stale.
#
# What counts as a literal date (digits not touching other letters or digits):
#   YYYY-MM-DD, YYYYMMDD and civil fields "YYYY, M, D" (as in utc(YYYY, M, D, ...)) with a year
#     1900..2099 that is a REAL calendar date (an impossible one such as 2026-13-01 or 2026-02-30
#     can never go stale: tests of rejection need no entry; the fields form is listed as Y-MM-DD),
#   unix times 1.7e9 .. 2.1e9 (November 2023 .. July 2036), the range a "now" of these years has,
#     in seconds or in milliseconds (13 digits: the gateway's clocks and records count in ms),
#   day-first dates "DD/MM/YYYY", the form the SMS and USSD texts show (listed as DD/MM/YYYY).
# Needs only perl (perl-base is part of every Debian). No Redis, no build: LGW_SRC or the checkout.
set -euo pipefail

SRC="${LGW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
ALLOW="$SRC/tests/it/stale_dates.allow"

cd "$SRC"
# Files to scan: everything under tests/ and deploy/ that is text, except the allow-list itself,
# third-party lock files, binary PDU vectors, and the fuzz corpus (tests/fuzz/seeds: inputs fed to
# parsers with a fixed injected "now"; a real-looking date is the point of a seed).
mapfile -t files < <(find tests deploy -type f \
  ! -name 'package-lock.json' ! -path 'tests/it/stale_dates.allow' ! -path '*/node_modules/*' \
  ! -path 'tests/fuzz/seeds/*' \
  -exec grep -Il . {} + | sort)

perl -e '
use strict; use warnings;
my ($allow, @files) = @ARGV;
# allow-list: "path literal  # reason"; literal "*" allows every date in that file.
my (%ok, %used, @entries);
open(my $a, "<", $allow) or die "cannot read $allow: $!\n";
while (<$a>) {
    next if /^\s*(#|$)/;
    my ($path, $lit, $why) = /^(\S+)\s+(\S+)\s+#\s*(\S.*)$/
        or die "$allow:$.: expected \"path literal  # reason\"\n";
    $ok{"$path\t$lit"} = 1; push @entries, "$path\t$lit";
}
sub real_date {
    my ($y, $m, $d) = @_;
    return 0 if $y < 1900 || $y > 2099 || $m < 1 || $m > 12 || $d < 1;
    my @mdays = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31);
    my $leap = ($y % 4 == 0 && $y % 100 != 0) || $y % 400 == 0;
    return $d <= $mdays[$m - 1] + ($m == 2 && $leap ? 1 : 0);
}
my $bad = 0;
for my $f (@files) {
    open(my $fh, "<", $f) or die "cannot read $f: $!\n";
    while (my $line = <$fh>) {
        my @hits;
        while ($line =~ /(?<![0-9A-Za-z])((19|20)\d\d)-(\d\d)-(\d\d)(?![0-9])/g) {
            push @hits, "$1-$3-$4" if real_date($1, $3, $4);
        }
        while ($line =~ /(?<![0-9A-Za-z.\-])((19|20)\d\d)(\d\d)(\d\d)(?![0-9A-Za-z])/g) {
            push @hits, "$1$3$4" if real_date($1, $3, $4);
        }
        while ($line =~ /(?<![0-9A-Za-z.\-])((19|20)\d\d),\s*(\d{1,2}),\s*(\d{1,2})(?![0-9])/g) {
            push @hits, sprintf("%s-%02d-%02d", $1, $3, $4) if real_date($1, $3, $4);
        }
        while ($line =~ /(?<![0-9A-Za-z.\-])(\d{10})(?![0-9A-Za-z])/g) {
            push @hits, $1 if $1 >= 1.7e9 && $1 < 2.1e9;
        }
        while ($line =~ /(?<![0-9A-Za-z.\-])(\d{13})(?![0-9A-Za-z])/g) {
            push @hits, $1 if $1 >= 1.7e12 && $1 < 2.1e12;
        }
        while ($line =~ m{(?<![0-9A-Za-z/])(\d\d)/(\d\d)/((19|20)\d\d)(?![0-9A-Za-z/])}g) {
            push @hits, "$1/$2/$3" if real_date($3, $2, $1);
        }
        for my $h (@hits) {
            if ($ok{"$f\t$h"}) { $used{"$f\t$h"} = 1; next; }
            if ($ok{"$f\t*"}) { $used{"$f\t*"} = 1; next; }
            print "FAIL: $f:$.: literal date $h\n";
            $bad++;
        }
    }
}
for my $e (@entries) {
    next if $used{$e};
    my ($p, $l) = split /\t/, $e;
    print "FAIL: $allow: \"$p $l\" allows a date that is no longer there: remove the entry\n";
    $bad++;
}
if ($bad) {
    print "\n$bad stale-date problem(s). A test must compute its dates from its \"now\" (the real\n",
          "clock for anything Redis sees, e.g. \$(date -d \"+2 days\" +%F) or time(NULL); an injected\n",
          "clock for pure logic), and shipped samples must hold no date that can go stale. Only a\n",
          "date that IS the point of a test (a DST edge, 29 February, an RFC example) may stay:\n",
          "add it to $allow with the reason.\n";
    exit 1;
}
printf "ok - no literal calendar date in %d files of tests/ and deploy/ outside %d allowed entries\n",
       scalar(@files), scalar(@entries);
' "$ALLOW" "${files[@]}"
