#!/usr/bin/perl

# t/e2e_client.t on the demo of "make run AUTH=entra": a resource without
# access keys (examples/chat-entra.conf), the local Entra ID stand-in and
# the emulator with local auth disabled.  The scenario and its checks are
# those of t/e2e_client.t, which says what differs.

use strict;
use warnings;

use FindBin;

our $AUTH = 'entra';

do "$FindBin::Bin/e2e_client.t";
die $@ if $@;
