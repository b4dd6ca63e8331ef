#!/usr/bin/perl

# REST through subrequests when things go wrong.  The service (the recording
# stand-in t/fixtures/rest_recorder.js, switched between misbehaviours) is
# unreachable, slow, failing, throttling, answering garbage, hanging up or
# answering too much: the caller gets the service's own error, or a 502/504
# with a JSON reason, never a false 2xx.  Bad requests are refused before
# anything is sent.  After every failure nginx goes on serving.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use JSON::PP;
use WebPubSub::Nginx;
use RestRecorder;

my $KEY = 'rest-failures-key';

my $t = WebPubSub::Nginx->new();
my $rec = RestRecorder->start($t, port => 1, keys => [$KEY]);
$t->port(2);    # reserved, and nothing listens on it

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint http://127.0.0.1:%%PORT_1%%;
        webpubsub_access_key $KEY;
        webpubsub_hub chat;

        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_connect_timeout 1s;
            proxy_send_timeout 1s;
            proxy_read_timeout 1s;
            subrequest_output_buffer_size 64k;
        }

        location /_dead/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
            proxy_connect_timeout 1s;
            proxy_read_timeout 1s;
        }

        location = /rest/send_to_all {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all excluded=\$webpubsub_arg_ex1
                filter=\$webpubsub_arg_filter ttl=\$webpubsub_arg_ttl;
        }

        location = /rest/send_to_user {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_user user=\$webpubsub_arg_user
                ttl=\$webpubsub_arg_ttl;
        }

        location = /rest/send_to_group {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_group group=\$webpubsub_arg_group
                ttl=\$webpubsub_arg_ttl;
        }

        location = /rest/list_connections {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest list_connections group=\$webpubsub_arg_group
                max_page_size=\$webpubsub_arg_max_page_size
                top=\$webpubsub_arg_top;
        }

        location = /rest/connection_exists {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest connection_exists
                connection=\$webpubsub_arg_connection;
        }

        location = /rest/grant_permission {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest grant_permission
                connection=\$webpubsub_arg_connection
                permission=\$webpubsub_arg_permission
                target=\$webpubsub_arg_target;
        }

        location = /vhub/send_to_all {
            webpubsub_hub \$webpubsub_arg_hub;
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all;
        }

        location = /dead/send_to_all {
            webpubsub_rest_pass /_dead/;
            webpubsub_rest send_to_all;
        }
    }
}
EOF

$t->run();
# 31 for the service's failures, 4 for each of the 14 bad requests, 2 more,
# 4 for a late body, 3 for the token reuse
$t->plan(31 + 4 * 14 + 2 + 4 + 3);

my $json = JSON::PP->new->utf8->canonical;

sub send_text {
    my ($path, $body, %o) = @_;
    return $t->request('POST', $path, timeout => 10,
        headers => { 'Content-Type' => $o{type} // 'text/plain' },
        body => $body // 'hello');
}

# A JSON error of the REST location itself: {"error":"<reason>"}.
sub json_error {
    my ($r, $name) = @_;
    my $b = eval { $json->decode($r->{content}) };
    ok(($r->{headers}{'content-type'} // '') =~ m{^application/json}
        && ref $b eq 'HASH' && defined $b->{error} && !ref $b->{error}
        && length $b->{error},
        "$name: a JSON reason")
        or diag(($r->{headers}{'content-type'} // '<no type>')
            . " $r->{content}");
}

# nginx keeps serving: the recorder back to normal, an ordinary call works
sub still_serves {
    my ($name) = @_;
    $rec->control({ mode => 'normal' });
    my $r = send_text('/rest/send_to_all?filter=userId%20eq%20%27a%27', 'ok');
    is($r->{status}, 202, "$name: then a normal call succeeds")
        or diag($r->{content});
}

###############################################################################
# the service unreachable, slow, failing, throttling, broken

my $r = send_text('/dead/send_to_all');
is($r->{status}, 502, 'service unreachable: 502');
json_error($r, 'service unreachable');
still_serves('service unreachable');

$rec->control({ mode => 'delay', ms => 3000 });
# (a 504 can only come from proxy_read_timeout: the answer would be a 202)
$r = send_text('/rest/send_to_all');
is($r->{status}, 504, 'service too slow: 504');
json_error($r, 'service too slow');
still_serves('service too slow');

my $detail = '{"code":"Error.Internal","message":"boom","target":"Request"}';
$rec->control({ mode => 'status', status => 500, body => $detail,
    headers => { 'Content-Type' => 'application/json; charset=utf-8',
                 'x-ms-error-code' => 'Error.Internal' } });
$r = send_text('/rest/send_to_all');
is($r->{status}, 500, 'service error: its 500');
is($r->{content}, $detail, 'service error: its ErrorDetail body');
is($r->{headers}{'x-ms-error-code'}, 'Error.Internal',
    'service error: its x-ms-error-code');
like($r->{headers}{'content-type'} // '', qr{^application/json},
    'service error: its Content-Type');
$r = $t->get('/rest/connection_exists?connection=live-1');
is($r->{status}, 500, 'service error on an existence check: 500, not yes or no');
still_serves('service error');

$rec->control({ mode => 'status', status => 429,
    body => '{"code":"Error.TooManyRequests","message":"slow down"}',
    headers => { 'Content-Type' => 'application/json', 'Retry-After' => '7',
                 'x-ms-error-code' => 'Error.TooManyRequests' } });
$r = send_text('/rest/send_to_all');
is($r->{status}, 429, 'throttled: 429');
is($r->{headers}{'retry-after'}, '7', 'throttled: Retry-After forwarded');
is($r->{headers}{'x-ms-error-code'}, 'Error.TooManyRequests',
    'throttled: x-ms-error-code forwarded');
still_serves('throttled');

# nginx itself would take bytes without a status line for an HTTP/0.9 200
$rec->control({ mode => 'garbage' });
$r = send_text('/rest/send_to_all');
is($r->{status}, 502, 'garbage: 502');
json_error($r, 'garbage');
$r = $t->get('/rest/connection_exists?connection=live-1');
is($r->{status}, 502, 'garbage on an existence check: 502, not "exists"');
$r = $t->get('/rest/list_connections?group=g1');
is($r->{status}, 502, 'garbage on a list: 502');
still_serves('garbage');

$rec->control({ mode => 'close' });
$r = send_text('/rest/send_to_all');
is($r->{status}, 502, 'connection closed without an answer: 502');
json_error($r, 'connection closed without an answer');
still_serves('connection closed without an answer');

$rec->control({ mode => 'big', bytes => 200000 });
$r = $t->get('/rest/list_connections?group=g1');
is($r->{status}, 502, 'a list page over subrequest_output_buffer_size: 502');
json_error($r, 'a list page over subrequest_output_buffer_size');
still_serves('a list page over subrequest_output_buffer_size');

# relative nextLink: followed as the SDK does
$rec->control({ mode => 'nextlink_relative' });
my ($sdk) = eval { $rec->oracle({ endpoint => $rec->origin, key => $KEY,
    hub => 'chat', op => 'list_connections', params => { group => 'g1' } }) };
$sdk //= { requests => [] };
my $by_id = $rec->by_request_id;
my @sdk_urls = map { ($by_id->{ $_->{client_request_id} // '' } // {})->{url} }
    @{ $sdk->{requests} };
my $before = $rec->count;
$r = $t->get('/rest/list_connections?group=g1');
my @ng_urls = map { $_->{url} } $rec->entries($before);
is($r->{status}, 200, 'relative nextLink: 200');
is_deeply(eval { $json->decode($r->{content}) }, { value => $sdk->{result} },
    'relative nextLink: the same items as the SDK')
    or diag($r->{content} . ' ' . $json->encode($sdk));
is_deeply(\@ng_urls, \@sdk_urls, 'relative nextLink: the same requests as the SDK');
still_serves('relative nextLink');

###############################################################################
# bad requests: refused before any call

# a raw request, for one without a Content-Type (HTTP::Tiny adds one)
sub raw_post {
    my ($path, $body) = @_;
    my $out = $t->http("POST $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n"
        . $body) // '';
    my ($head, $content) = split /\r\n\r\n/, $out, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.[01] (\d{3})};
    my %h;
    for (split /\r\n/, $head // '') {
        $h{ lc $1 } = $2 if /^([^:]+):\s*(.*)$/;
    }
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $plain = '';
        while ($content =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($content, 0, $n, '');
            $content =~ s/^\r\n//;
        }
        $content = $plain;
    }
    return { status => $status // 0, headers => \%h, content => $content // '' };
}

my $g1024 = 'g' x 1024;
my @bad = (
    [ 'send_to_user without user', 400,
      sub { send_text('/rest/send_to_user') } ],
    [ 'an empty group', 400,
      sub { send_text('/rest/send_to_group?group=') } ],
    [ 'a group of 1025 bytes', 400,
      sub { send_text('/rest/send_to_group?group=' . ('g' x 1025)) } ],
    [ 'a group of only spaces', 400,
      sub { send_text('/rest/send_to_group?group=%20%20%20') } ],
    [ 'a hub from a variable that is not a hub name', 400,
      sub { send_text('/vhub/send_to_all?hub=1bad') } ],
    [ 'ttl 301', 400, sub { send_text('/rest/send_to_all?ttl=301') } ],
    [ 'ttl -1', 400, sub { send_text('/rest/send_to_all?ttl=-1') } ],
    [ 'ttl abc', 400, sub { send_text('/rest/send_to_all?ttl=abc') } ],
    [ 'an unknown permission', 400,
      sub { $t->request('POST',
                '/rest/grant_permission?connection=c1&permission=readAll') } ],
    [ 'a form body', 415,
      sub { send_text('/rest/send_to_all', 'a=b',
                type => 'application/x-www-form-urlencoded') } ],
    [ 'a send without Content-Type', 415,
      sub { raw_post('/rest/send_to_all', 'hello') } ],
    [ 'a send with GET', 405, sub { $t->get('/rest/send_to_all') } ],
    [ 'a permission grant with GET', 405,
      sub { $t->get('/rest/grant_permission?connection=c1&permission=sendToGroup') } ],
    [ 'a send with DELETE', 405, sub { $t->request('DELETE', '/rest/send_to_all') } ],
);

for my $case (@bad) {
    my ($name, $status, $call) = @$case;
    my $n = $rec->count;
    my $res = $call->();
    is($res->{status}, $status, "$name: $status");
    json_error($res, $name);
    is($rec->count, $n, "$name: nothing sent to the service");
    still_serves($name);
}

my $n = $rec->count;
$r = send_text("/rest/send_to_group?group=$g1024");
is($r->{status}, 202, 'a group of 1024 bytes: accepted');
my @sent = $rec->entries($n);
ok(@sent == 1 && $sent[0]{url} =~ m{/groups/$g1024/:send\?}
    && $sent[0]{auth}{ok}, 'a group of 1024 bytes: sent');

# A body that comes after the headers, on an operation that sends none, is
# read before the call goes out: it was once discarded while the
# subrequest ran, with the subrequest's headers, which crashed the worker
# or let the body be parsed as a request of its own.
{
    my $smuggled = "GET /rest/connection_exists?connection=live-smuggled"
        . " HTTP/1.1\r\nHost: x\r\n\r\n";
    my $before = $rec->arrived;
    my $logged = $rec->count;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0),
        Timeout => 5) or die "connect: $!";
    $s->autoflush(1);
    print $s "POST /rest/list_connections?group=g1 HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: " . length($smuggled) . "\r\n\r\n";

    # the call must wait for the body: nothing reaches the service yet
    my $early = 0;
    my $until = time() + 0.5;
    while (time() < $until) {
        if ($rec->arrived > $before) { $early = 1; last }
        select(undef, undef, undef, 0.02);
    }
    ok(!$early, 'late body: the call waits for it');

    print $s $smuggled;

    # every response on the connection, until it is idle for a second
    my $got = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 10;
    while (time() < $deadline && $sel->can_read(1)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $got .= $buf;
    }
    close $s;

    my @status = $got =~ m{^HTTP/1\.1 (\d+)}mg;
    is_deeply(\@status, [200], 'late body: one answer, the list');
    my @calls = $rec->entries($logged);
    ok(@calls && !grep({ $_->{url} !~ m{/groups/g1/connections} } @calls),
        'late body: only the list\'s pages went to the service');
    ok(!grep({ $_->{url} =~ /smuggled/ } @calls),
        'late body: the body was not taken for a request');
}

# The same call again reuses its token (no second HMAC), another call gets
# its own; the service accepts both.
{
    my $from = $rec->count;
    send_text('/rest/send_to_user?user=same');
    send_text('/rest/send_to_user?user=same');
    send_text('/rest/send_to_user?user=other');
    my @e = $rec->entries($from);
    my @auth = map { $_->{headers}{authorization} // '' } @e;
    is($auth[0], $auth[1], 'token reuse: the same call, the same token');
    isnt($auth[0], $auth[2], 'token reuse: another URL, another token');
    ok(@e == 3 && !grep({ !$_->{auth}{ok} } @e),
        'token reuse: the service accepts all three');
}

$t->done();
