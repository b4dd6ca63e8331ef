#!/usr/bin/perl

# Two ways around the event handler gateway, and their fixes.
#
# B1, error pages: a request with r->error_page set used to be exempt from
# the gateway, but "error_page 413 = @events;" (a body over
# client_max_body_size) and "error_page 400 = @events;" (a broken chunked
# body) send a POST on to a named location with the method and every
# header kept.  Only what an error page turned into something other than
# POST or OPTIONS may be exempt; the rest is checked again.
#
# B2, stray events: when "location /" proxies to the same app and the
# service calls another URL than the app's handler path, forged events sent
# straight to that path never meet the gateway.  With
# "webpubsub_refuse_stray_events on;" any request carrying ce-signature or
# ce-type (ce_signature, ce_type, any case) in a location without
# "webpubsub_event_handler on" gets 403, also after internal redirects.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;
use WebPubSub::EventApp;

my $KEY = 'bypass-key-0123456789';
my $HUB = 'chat';
my $STRAY =
    '{"error":"CloudEvents request outside the event handler gateway"}';

my $t = WebPubSub::Nginx->new();
my $app_port = $t->port(1);

$t->write_file('404.html', "the ordinary error page\n");
$t->write_file('sorry.html', "the app is down\n");
$t->port(6);    # reserved, nothing listens: a 502

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    webpubsub_endpoint https://contoso.webpubsub.azure.com;
    webpubsub_access_key $KEY;
    webpubsub_hub $HUB;

    log_format refusals '\$status \$webpubsub_error';

    upstream app {
        server 127.0.0.1:%%PORT_1%%;
    }

    # B1: error_page 413 and 400 into a gated named location
    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /eventhandler/ {
            webpubsub_event_handler on;
            client_max_body_size 1k;
            error_page 413 = \@events;
            proxy_pass http://app;
        }

        # nginx discarded the body with the 413: say there is none
        location \@events {
            webpubsub_event_handler on;
            access_log %%TESTDIR%%/refusals.log refusals;
            proxy_set_header Content-Length "";
            proxy_pass http://app;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_2%%;

        location /eventhandler/ {
            webpubsub_event_handler on;
            error_page 400 = \@events;
            proxy_pass http://app;
        }

        location \@events {
            webpubsub_event_handler on;
            proxy_pass http://app;
        }
    }

    # B1: an ordinary error page (a GET) in a gated server
    server {
        listen 127.0.0.1:%%PORT_3%%;

        webpubsub_event_handler on;

        location /eventhandler/ {
            proxy_pass http://app/missing/;
            proxy_intercept_errors on;
            error_page 404 /404.html;
        }

        location = /404.html {
            root %%TESTDIR%%;
        }
    }

    # B2: a catch-all location beside the gate, stray events refused
    server {
        listen 127.0.0.1:%%PORT_4%%;

        underscores_in_headers on;
        webpubsub_refuse_stray_events on;

        # the URL the service calls
        location /webpubsub/ {
            webpubsub_event_handler on;
            proxy_pass http://app/eventhandler/;
        }

        location /rw/ {
            rewrite ^/rw/(.*)\$ /eventhandler/\$1 last;
        }

        location /big/ {
            client_max_body_size 1k;
            error_page 413 = \@plain;
            proxy_pass http://app;
        }

        location \@plain {
            proxy_pass http://app;
        }

        # an ordinary error page (a GET) in an ungated location
        location /down/ {
            webpubsub_event_handler on;
            proxy_pass http://127.0.0.1:%%PORT_6%%;
            error_page 502 /sorry.html;
        }

        location = /sorry.html {
            root %%TESTDIR%%;
        }

        location /off/ {
            webpubsub_refuse_stray_events off;
            proxy_pass http://app/eventhandler/;
        }

        location / {
            access_log %%TESTDIR%%/stray.log refusals;
            proxy_pass http://app;
        }
    }

    # B2: the same without webpubsub_refuse_stray_events: unchanged
    server {
        listen 127.0.0.1:%%PORT_5%%;

        location /webpubsub/ {
            webpubsub_event_handler on;
            proxy_pass http://app/eventhandler/;
        }

        location / {
            proxy_pass http://app;
        }
    }
}
EOF

my $app = WebPubSub::EventApp->start($t, $app_port, $HUB, quiet => 1);
$t->run();

sub app_log { $app->log() }

sub arrivals_of { $app->arrivals_of(@_) }

sub sig {
    my ($conn, $key) = @_;
    return 'sha256=' . hmac_sha256_hex($key // $KEY, $conn);
}

# the headers the service sends with an event (connected unless $type
# says otherwise); $key signs it
sub event_headers {
    my ($conn, $key, $type) = @_;
    $type //= 'azure.webpubsub.sys.connected';
    (my $name = $type) =~ s/^azure\.webpubsub\.(sys|user)\.//;
    return {
        'WebHook-Request-Origin' => 'contoso.webpubsub.azure.com',
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => $type,
        'ce-source' => "/hubs/$HUB/client/$conn",
        'ce-id' => '1',
        'ce-time' => '2026-11-29T10:00:00Z',
        'ce-signature' => sig($conn, $key),
        'ce-connectionId' => $conn,
        'ce-hub' => $HUB,
        'ce-eventName' => $name,
        'ce-userId' => 'mallory',
        'Content-Type' => $type =~ /\.user\./
            ? 'text/plain' : 'application/json; charset=utf-8',
    };
}

sub raw_headers {
    my ($h) = @_;
    return join('', map { "$_: $h->{$_}\r\n" } sort keys %$h);
}

# status and body of a raw response
sub parse {
    my ($raw) = @_;
    $raw //= '';
    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
    $body //= '';
    if (($head // '') =~ /^Transfer-Encoding: chunked/mi) {
        my $plain = '';
        while ($body =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($body, 0, $n, '');
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }
    return ($status // 0, $body);
}

sub warned {
    my ($re) = @_;
    my @entries = split /\n(?=\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[)/,
        $t->error_log();
    return grep { /^\S+ \S+ \[warn\]/ && /webpubsub/ && /$re/ } @entries;
}

$t->plan(32);

###############################################################################
# B1: error_page 413 = @events

my $big = '{"pad":"' . ('x' x 2048) . '"}';

my $r = $t->request('POST', '/eventhandler/',
    headers => event_headers('forged-413', 'not-the-key'), body => $big);
is($r->{status}, 401, 'error_page 413 = @events: a forged event gets 401');
is($r->{content}, '{"error":"invalid ce-signature"}',
    'error_page 413 = @events: the gateway\'s reason');
ok(!arrivals_of('forged-413'),
    'error_page 413 = @events: the forged event never reached the app');

# (a user event: the app gets no body, the one nginx discarded)
my $USER = 'azure.webpubsub.user.message';
$r = $t->request('POST', '/eventhandler/',
    headers => event_headers('genuine-413', $KEY, $USER), body => $big);
is($r->{status}, 200, 'error_page 413 = @events: a genuine event gets 200');
ok(scalar(arrivals_of('genuine-413')),
    'error_page 413 = @events: the genuine event reached the app');

like(join('', $t->read_file('refusals.log')),
    qr/^401 invalid ce-signature$/m,
    'error_page 413 = @events: $webpubsub_error has the reason');

###############################################################################
# B1: error_page 400 = @events, a broken chunked body

my $p2 = $t->port(2);
my $chunked = "POST /eventhandler/ HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\nTransfer-Encoding: chunked\r\n";

my ($status, $body) = parse($t->http($chunked
    . raw_headers(event_headers('forged-400', 'not-the-key'))
    . "\r\nzz\r\n{}\r\n0\r\n\r\n", port => $p2));
ok($status == 401 || $status == 400,
    'error_page 400 = @events: a forged event gets the gateway\'s refusal')
    or diag("status $status");
like($body, qr/^\{"error":"[^"]+"\}\z/,
    'error_page 400 = @events: with the gateway\'s reason');
ok(!arrivals_of('forged-400'),
    'error_page 400 = @events: the forged event never reached the app');

# a genuine one passes the gate, breaks in proxy_pass's body reading and
# is sent on by the error page
($status, $body) = parse($t->http($chunked
    . raw_headers(event_headers('genuine-400', $KEY, $USER))
    . "\r\nzz\r\nhi\r\n0\r\n\r\n", port => $p2));
ok(scalar(arrivals_of('genuine-400')),
    'error_page 400 = @events: a genuine event still reaches the app')
    or diag("status $status");

###############################################################################
# B1: an ordinary error page is still served

my $p3 = $t->port(3);
$r = $t->request('POST', '/eventhandler/', port => $p3,
    headers => event_headers('genuine-404'), body => '{}');
is($r->{status}, 404, 'error_page 404 /404.html: the status');
is($r->{content}, "the ordinary error page\n",
    'error_page 404 /404.html: the page, served in a gated server');
ok(scalar(arrivals_of('genuine-404')),
    'error_page 404 /404.html: the genuine event reached the app first');

###############################################################################
# B2: webpubsub_refuse_stray_events on

my $p4 = $t->port(4);

$r = $t->request('POST', '/eventhandler/', port => $p4,
    headers => event_headers('stray-forged', 'not-the-key'), body => '{}');
is($r->{status}, 403, 'stray: a forged event beside the gate gets 403');
is($r->{content}, $STRAY, 'stray: the reason');

$r = $t->request('POST', '/eventhandler/', port => $p4,
    headers => event_headers('stray-signed'), body => '{}');
is($r->{status}, 403, 'stray: even a correctly signed one');

# one header of the two, any spelling, any method
my @variants = (
    [ 'ce-type alone', "ce-type: azure.webpubsub.sys.connected\r\n" ],
    [ 'ce-signature alone', 'ce-signature: ' . sig('x') . "\r\n" ],
    [ 'CE-TYPE', "CE-TYPE: azure.webpubsub.sys.connect\r\n" ],
    [ 'Ce-Signature on a GET', 'Ce-Signature: ' . sig('x') . "\r\n", 'GET' ],
    [ 'ce_type', "ce_type: azure.webpubsub.sys.connected\r\n" ],
    [ 'CE_SIGNATURE', 'CE_SIGNATURE: ' . sig('x') . "\r\n" ],
);
my @variant_status;
for my $i (0 .. $#variants) {
    my ($name, $header, $method) = @{ $variants[$i] };
    $method //= 'POST';
    my ($s, $b) = parse($t->http("$method /eventhandler/v$i HTTP/1.1\r\n"
        . "Host: localhost\r\nConnection: close\r\n"
        . "ce-connectionId: stray-variant\r\n$header"
        . ($method eq 'POST' ? "Content-Length: 2\r\n\r\n{}" : "\r\n"),
        port => $p4));
    push @variant_status, "$name: $s $b";
}
is_deeply(\@variant_status, [ map { "$_->[0]: 403 $STRAY" } @variants ],
    'stray: ce-type or ce-signature in any spelling, 403');

# after internal redirects
$r = $t->request('POST', '/rw/', port => $p4,
    headers => event_headers('stray-rewrite', 'not-the-key'), body => '{}');
is($r->{status}, 403, 'stray: rewrite ... last into an ungated location');

$r = $t->request('POST', '/big/', port => $p4,
    headers => event_headers('stray-413', 'not-the-key'), body => $big);
is($r->{status}, 403,
    'stray: error_page 413 = @plain, an ungated named location');

ok(!(grep { arrivals_of($_) } qw(stray-forged stray-signed stray-variant
    stray-rewrite stray-413)), 'stray: no stray event reached the app');
like($t->read_file('stray.log'),
    qr/^403 CloudEvents request outside the event handler gateway$/m,
    'stray: $webpubsub_error has the reason');

# what still works
$r = $t->request('GET', '/page?a=1', port => $p4,
    headers => { 'ce-source' => '/not/an/event' });
is($r->{content}, "not an event\n",
    'stray: a request without those headers is proxied');
ok((grep { $_->{arrived} && $_->{url} eq '/page?a=1' } app_log()),
    'stray: and reached the app');

$r = $t->request('POST', '/webpubsub/', port => $p4,
    headers => event_headers('stray-genuine'), body => '{}');
is($r->{status}, 200, 'stray: a genuine event at the gate gets 200');
ok(scalar(arrivals_of('stray-genuine')), 'stray: and reached the app');

$r = $t->request('POST', '/webpubsub/', port => $p4,
    headers => event_headers('stray-gate-forged', 'not-the-key'),
    body => '{}');
is($r->{status}, 401, 'stray: the gate still refuses a forged event');

$r = $t->request('POST', '/down/', port => $p4,
    headers => event_headers('stray-down'), body => '{}');
ok($r->{status} == 502 && $r->{content} eq "the app is down\n",
    'stray: an error page that became a GET is served, event headers and all')
    or diag("$r->{status} $r->{content}");

# off
$r = $t->request('POST', '/off/', port => $p4,
    headers => event_headers('stray-off'), body => '{}');
is($r->{status}, 200, 'webpubsub_refuse_stray_events off in a location');

$r = $t->request('POST', '/eventhandler/', port => $t->port(5),
    headers => event_headers('stray-default', 'not-the-key'), body => '{}');
ok($r->{status} == 200 && arrivals_of('stray-default'),
    'without webpubsub_refuse_stray_events nothing changes');

###############################################################################
# Logs

ok(scalar(warned(qr/invalid ce-signature/)),
    'a forged event refused after an error page is logged at warn');
ok(scalar(warned(qr/CloudEvents request outside the event handler gateway/)),
    'a stray event is logged at warn with its reason');

my $bad = hmac_sha256_hex('not-the-key', 'forged-413');
my @entries = grep { !/^\S+ \S+ \[debug\]/ }
    split /\n(?=\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[)/, $t->error_log();
ok(!(grep { /$bad|\Q$KEY\E/ || /[0-9a-f]{64}/ } @entries),
    'no signature or key in error.log above debug level');

$t->done();
