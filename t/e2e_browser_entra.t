#!/usr/bin/perl

# t/e2e_browser.t on the demo of "make run AUTH=entra": a resource without
# access keys (examples/chat-entra.conf), the local Entra ID stand-in and
# the emulator with local auth disabled; the same pages and checks.

use strict;
use warnings;

use FindBin;

our $AUTH = 'entra';

do "$FindBin::Bin/e2e_browser.t";
die $@ if $@;
