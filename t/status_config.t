#!/usr/bin/perl

# webpubsub_status in the configuration: a location directive without
# arguments, alone as the location's content handler (nginx -t says what
# is wrong otherwise).  The counters' zone lives while some location has
# the directive: nothing is counted without one, a reload that keeps one
# keeps the counters, and one that removes it drops them, so that adding
# it again starts from zero with a new start time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use Time::HiRes ();
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();
my $JSON = JSON::PP->new->utf8->canonical;

$t->plan(27);

# --- nginx -t ----------------------------------------------------------

$t->nginx_t_case('in a location', $t->conf_location('',
    'webpubsub_status;'));

$t->nginx_t_case('in two locations', <<'EOF');
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%%;
        location = /a { webpubsub_status; }
        location = /b { webpubsub_status; }
    }
}
EOF

$t->nginx_t_case('with an argument', $t->conf_location('',
    'webpubsub_status on;'),
    qr/invalid number of arguments in "webpubsub_status" directive/);

$t->nginx_t_case('at http level', $t->conf_location('webpubsub_status;',
    ''), qr/"webpubsub_status" directive is not allowed here/);

$t->nginx_t_case('after proxy_pass', $t->conf_location('',
    'proxy_pass http://127.0.0.1:1; webpubsub_status;'),
    qr/"webpubsub_status" directive is duplicate: this location already has a content handler/);

$t->nginx_t_case('twice', $t->conf_location('',
    'webpubsub_status; webpubsub_status;'),
    qr/"webpubsub_status" directive is duplicate in/);

# --- the zone's lifetime -----------------------------------------------

sub conf {
    my ($status) = @_;
    my $loc = $status ? 'location = /status { webpubsub_status; }' : '';
    return <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_0%%;
        webpubsub_connection_string
            "Endpoint=http://127.0.0.1;Port=8080;AccessKey=abc;Version=1.0;";
        webpubsub_hub chat;
        location = /negotiate { webpubsub_token; }
        $loc
    }
}
EOF
}

sub tokens {
    my @got = map { $t->get('/negotiate')->{status} } 1 .. $_[0];
    return join ',', @got;
}

sub counters {
    my $r = $t->get('/status?format=json');
    return undef unless $r->{status} == 200;
    return $JSON->decode($r->{content});
}

$t->write_conf(conf(0));
$t->run();

is(tokens(3), '200,200,200', 'without a status location: tokens');
is($t->get('/status')->{status}, 404, 'without a status location: no '
    . 'counters to see');

$t->write_conf(conf(1));
$t->reload();

my $c = counters();
is($c->{tokens_issued}{key}{default}, 0,
    'the zone comes with the location: nothing was counted before');
my $start = $c->{start_time};
ok($start > 0, 'with a start time');

tokens(2);
$t->reload();
$c = counters();
is($c->{tokens_issued}{key}{default}, 2, 'a reload keeps the counters');
is($c->{start_time}, $start, 'and their start time');

$t->write_conf(conf(0));
$t->reload();
is(tokens(2), '200,200', 'the location removed: tokens as before');

# the start time is in seconds: wait for the clock to pass it (2 s at
# most), so that a new start time can be told from the old one
my $until = time() + 2;
Time::HiRes::sleep(0.05) while time() <= $start && time() < $until;

$t->write_conf(conf(1));
$t->reload();
$c = counters();
is($c->{tokens_issued}{key}{default}, 0,
    'the location back: the counters start from zero');
ok($c->{start_time} > $start, 'with a new start time');

$t->done();
