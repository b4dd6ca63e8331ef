#!/usr/bin/perl

# The bounds of REST (webpubsub_rest), tested exactly at each bound
# (accepted) and one past it (refused with the documented status and
# reason):
#
#   requests       values: 4096 bytes, groups 1024 UTF-16 units; ttl 300,
#                  max_page_size 200, top and ttl_minutes 2147483647; a hub
#                  from a variable: 128; 100 parameters; a nextLink of 8192
#                  bytes; 1000 pages; a response of exactly
#                  subrequest_output_buffer_size; client_max_body_size
#   configuration  (nginx -t) 100 webpubsub_rest parameters, literal REST
#                  values
#
# The service is t/fixtures/limits_service.js, which checks every call's
# token.  The key everything is signed with is itself at its bound: 4096
# bytes, from a file of 4098 (the key and "\r\n").  The bounds of
# negotiate, of the event handler gateway and of the shared service
# configuration are in negotiate_limits.t, event_limits.t and
# service_limits.t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

my $svc_port = $t->port(1);

# a 4096-byte key, and the file of 4098 bytes it comes from
my $KEY = substr('K0123456789abcdefghijklmnopqrstuvwxyz-_' x 110, 0, 4096);
$t->write_file('k4096.key', "$KEY\r\n");

# hub names of exact lengths
my $H128 = 'H' . ('h' x 127);
my $H129 = $H128 . 'h';

# 100 "excluded" parameters: the most one webpubsub_rest may have
my $EX100 = join(' ', map { "excluded=e$_" } 1 .. 100);

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    # room for request lines and headers well past every bound
    large_client_header_buffers 4 64k;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint http://127.0.0.1:%%PORT_1%%;
        webpubsub_access_key_file %%TESTDIR%%/k4096.key;
        webpubsub_hub chat;
        webpubsub_rest_pass /_svc/;

        location /_svc/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_connect_timeout 5s;
            proxy_read_timeout 5s;
            subrequest_output_buffer_size 64k;
        }

        location /_small/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            proxy_connect_timeout 5s;
            proxy_read_timeout 5s;
            subrequest_output_buffer_size 4096;
        }

        location = /rest/send_to_user {
            webpubsub_rest send_to_user user=\$webpubsub_arg_v;
        }

        location = /rest/send_to_connection {
            webpubsub_rest send_to_connection connection=\$webpubsub_arg_v;
        }

        location = /rest/send_to_all {
            webpubsub_rest send_to_all filter=\$webpubsub_arg_filter
                excluded=\$webpubsub_arg_excluded ttl=\$webpubsub_arg_ttl;
        }

        location = /rest/send_to_all/100 {
            webpubsub_rest send_to_all $EX100;
        }

        # constants only, but an empty one: refused per call, as a
        # variable that came empty would be
        location = /rest/send_to_user/empty {
            webpubsub_rest send_to_user user= ttl=5;
        }

        location = /rest/send_to_all/hub {
            webpubsub_hub \$webpubsub_arg_hub;
            webpubsub_rest send_to_all;
        }

        location = /rest/send_to_all/1k {
            client_max_body_size 1k;
            webpubsub_rest send_to_all;
        }

        location = /rest/send_to_group {
            webpubsub_rest send_to_group group=\$webpubsub_arg_v;
        }

        location = /rest/close_connection {
            webpubsub_rest close_connection connection=c1
                reason=\$webpubsub_arg_v;
        }

        location = /rest/grant_permission {
            webpubsub_rest grant_permission connection=c1
                permission=sendToGroup target=\$webpubsub_arg_v;
        }

        location = /rest/generate_client_token {
            webpubsub_rest generate_client_token user=\$webpubsub_arg_user
                role=\$webpubsub_arg_role
                ttl_minutes=\$webpubsub_arg_ttl_minutes;
        }

        location = /rest/generate_client_token/small {
            webpubsub_rest_pass /_small/;
            webpubsub_rest generate_client_token user=\$webpubsub_arg_user;
        }

        location = /rest/list_connections {
            webpubsub_rest list_connections group=\$webpubsub_arg_group
                max_page_size=\$webpubsub_arg_max_page_size
                top=\$webpubsub_arg_top;
        }
    }
}
EOF

$t->run_daemon(sub {
    exec($ENV{TEST_NODE} // 'node', "$FindBin::Bin/fixtures/limits_service.js",
        $svc_port, $t->testdir . '/k4096.key') or die "exec node: $!";
});
$t->wait_for_port($svc_port, 20);
$t->run();

# requests 46, nginx -t 12
$t->plan(46 + 12);

my $json = JSON::PP->new->utf8->canonical;

# query argument: every byte but unreserved ones percent-encoded
sub q_esc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-_.~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub unesc {
    my ($s) = @_;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

# "status reason" of a refusal by the module: {"error":"reason"}
sub outcome {
    my ($r) = @_;
    my $b = eval { $json->decode($r->{content}) };
    my $reason = ref $b eq 'HASH' && defined $b->{error}
        ? $b->{error} : "<body: " . substr($r->{content}, 0, 200) . ">";
    return "$r->{status} $reason";
}

# the JSON body of an answer, or undef
sub body {
    my ($r) = @_;
    return eval { $json->decode($r->{content}) };
}

###############################################################################
# requests

sub send_text {
    my ($path, $body) = @_;
    return $t->request('POST', $path,
        headers => { 'Content-Type' => 'text/plain' }, body => $body // 'hi');
}

# the service's echo: its status and the URL the call went to
sub echo_url {
    my ($r, $status) = @_;
    my $b = body($r);
    return undef unless $r->{status} == $status && ref $b eq 'HASH'
        && $b->{auth};
    return $b->{url};
}

my $v4096 = 'v' x 4096;
my $Q = '?api-version=2024-12-01';

# values of at most 4096 bytes, in the path or the query
for my $c (
    [ 'user', '/rest/send_to_user?v=', 202,
      sub { "/api/hubs/chat/users/$_[0]/:send$Q" } ],
    [ 'connection', '/rest/send_to_connection?v=', 202,
      sub { "/api/hubs/chat/connections/$_[0]/:send$Q" } ],
    [ 'filter', '/rest/send_to_all?filter=', 202,
      sub { "/api/hubs/chat/:send$Q&filter=$_[0]" } ],
    [ 'excluded', '/rest/send_to_all?excluded=', 202,
      sub { "/api/hubs/chat/:send$Q&excluded=$_[0]" } ],
    [ 'reason', '/rest/close_connection?v=', 200,
      sub { "/api/hubs/chat/connections/c1$Q&reason=$_[0]" } ],
    [ 'target', '/rest/grant_permission?v=', 200,
      sub { "/api/hubs/chat/permissions/sendToGroup/connections/c1$Q"
            . "&targetName=$_[0]" } ],
    )
{
    my ($param, $path, $status, $url) = @$c;
    my $r = send_text("$path$v4096");
    is(echo_url($r, $status) // outcome($r), $url->($v4096),
        "REST: $param of 4096 bytes is sent");
    is(outcome(send_text("$path${v4096}v")),
        "400 parameter \"$param\" is longer than 4096 bytes",
        "REST: $param of 4097 bytes is refused");
}

{
    my $r = send_text("/rest/generate_client_token?role=$v4096");
    is(outcome($r) =~ /^200 / ? 'ok' : outcome($r), 'ok',
        'REST: role of 4096 bytes is sent');
    is(outcome(send_text("/rest/generate_client_token?role=${v4096}v")),
        '400 parameter "role" is longer than 4096 bytes',
        'REST: role of 4097 bytes is refused');
}

# groups: 1024 UTF-16 code units, whatever their bytes
my $smile = "\xf0\x9f\x98\x80";    # U+1F600: 4 bytes, 2 UTF-16 units
my $euro = "\xe2\x82\xac";         # U+20AC: 3 bytes, 1 unit

for my $c (
    [ 'g' x 1024, 'g' x 1025, '1024 ASCII', '1025 ASCII' ],
    [ ('g' x 1022) . $smile, ('g' x 1023) . $smile,
      '1022 ASCII + U+1F600 (1026 bytes)', '1023 ASCII + U+1F600 (1027 bytes)' ],
    [ $euro x 1024, $euro x 1025, '1024 x U+20AC (3072 bytes)',
      '1025 x U+20AC' ],
    [ $smile x 512, $smile x 513, '512 x U+1F600 (2048 bytes)',
      '513 x U+1F600' ],
    )
{
    my ($ok, $over, $ok_name, $over_name) = @$c;
    my $r = send_text('/rest/send_to_group?v=' . q_esc($ok));
    my $url = echo_url($r, 202) // '';
    my ($sent) = $url =~ m{^/api/hubs/chat/groups/([^/?]+)/:send\?};
    is(defined $sent ? unesc($sent) eq $ok ? 'sent' : "sent as $sent"
        : outcome($r), 'sent', "REST: group of $ok_name: 1024 units, sent");
    is(outcome(send_text('/rest/send_to_group?v=' . q_esc($over))),
        '400 parameter "group" is longer than 1024 characters',
        "REST: group of $over_name: 1025 units, refused");
}

# numbers
is(echo_url(send_text('/rest/send_to_all?ttl=300'), 202),
    "/api/hubs/chat/:send$Q&messageTtlSeconds=300", 'REST: ttl 300 is sent');
is(outcome(send_text('/rest/send_to_all?ttl=301')),
    '400 parameter "ttl" must be a whole number of seconds from 0 to 300',
    'REST: ttl 301 is refused');

{
    my $r = $t->get('/rest/list_connections?group=g&max_page_size=200');
    is(outcome($r) =~ /^200 / ? $r->{content} : outcome($r),
        '{"value":[{"connectionId":"c1"}]}', 'REST: max_page_size 200');
    is(outcome($t->get('/rest/list_connections?group=g&max_page_size=201')),
        '400 parameter "max_page_size" must be a whole number from 1 to 200',
        'REST: max_page_size 201 is refused');

    $r = $t->get('/rest/list_connections?group=g&top=2147483647');
    is(outcome($r) =~ /^200 / ? $r->{content} : outcome($r),
        '{"value":[{"connectionId":"c1"}]}', 'REST: top 2147483647');
    is(outcome($t->get('/rest/list_connections?group=g&top=2147483648')),
        '400 parameter "top" must be a whole number from 1 to 2147483647',
        'REST: top 2147483648 is refused');

    $r = send_text('/rest/generate_client_token?ttl_minutes=2147483647');
    is($r->{status} == 200 ? $r->{content} : outcome($r), '{"token":"t"}',
        'REST: ttl_minutes 2147483647');
    is(outcome(send_text('/rest/generate_client_token?ttl_minutes=2147483648')),
        '400 parameter "ttl_minutes" must be a whole number from 1 to '
        . '2147483647', 'REST: ttl_minutes 2147483648 is refused');
}

# a hub from a variable
is(echo_url(send_text("/rest/send_to_all/hub?hub=$H128"), 202),
    "/api/hubs/$H128/:send$Q", 'REST: a hub variable of 128 characters');
is(outcome(send_text("/rest/send_to_all/hub?hub=$H129")),
    '400 invalid hub name: is longer than 128 characters',
    'REST: a hub variable of 129 characters is refused');

# 100 parameters in one directive: 100 values go out
is(echo_url(send_text('/rest/send_to_all/100'), 202),
    "/api/hubs/chat/:send$Q" . join('', map { "&excluded=e$_" } 1 .. 100),
    'REST: 100 excluded parameters, 100 values sent');

is(outcome(send_text('/rest/send_to_user/empty')),
    '400 parameter "user" is required',
    'REST: a required parameter written empty is refused per call');

# the message: client_max_body_size, nginx's bound
is(send_text('/rest/send_to_all/1k', 'm' x 1024)->{status}, 202,
    'REST: a message of client_max_body_size (1k) is sent');
is(send_text('/rest/send_to_all/1k', 'm' x 1025)->{status}, 413,
    'REST: a message one byte longer gets 413');

# nextLink: 8192 bytes, relative or absolute
for my $kind ('rel', 'abs') {
    my $kind_name = $kind eq 'rel' ? 'a relative' : 'an absolute';
    my $r = $t->get("/rest/list_connections?group=${kind}8192");
    my $b = $r->{status} == 200 ? body($r) : undef;
    my $items = $b ? $b->{value} : [];
    my $url = @$items == 2 ? $items->[1]{url} // '' : '';
    ok($r->{status} == 200 && @$items == 2
        && $items->[0]{connectionId} eq 'first'
        && $url =~ m{^/api/hubs/chat/groups/${kind}8192/connections\?page=2&pad=p+$}
        && length($url) == ($kind eq 'rel' ? 8192
            : 8192 - length("http://127.0.0.1:$svc_port")),
        "REST: $kind_name nextLink of 8192 bytes is followed as it is")
        or diag(outcome($r));

    is(outcome($t->get("/rest/list_connections?group=${kind}8193")),
        "502 the service's nextLink is not a URL on the endpoint",
        "REST: $kind_name nextLink of 8193 bytes gets 502");
}

# 1000 pages of one connection each
{
    my $r = $t->get('/rest/list_connections?group=pages1000', timeout => 60);
    my $b = $r->{status} == 200 ? body($r) : undef;
    my @ids = $b ? map { $_->{connectionId} } @{ $b->{value} } : ();
    is_deeply(\@ids, [ map { "c$_" } 1 .. 1000 ],
        'REST: 1000 pages, all their connections')
        or diag(outcome($r));

    $r = $t->get('/rest/list_connections?group=pages1001', timeout => 60);
    my $last = body($t->get('/stats?group=pages1001', port => $svc_port));
    is(outcome($r) . ', last page fetched: ' . ($last // {})->{page},
        "502 the service returned more than 1000 pages, last page fetched: 1000",
        'REST: with a 1001st page: 502, and it is not fetched');
}

# a response of exactly subrequest_output_buffer_size (4096 here)
for my $how ('size', 'chunk') {
    my $want = '{"token":"' . ('x' x (4096 - 12)) . '"}';
    my $r = send_text("/rest/generate_client_token/small?user=${how}4096");
    is($r->{status} == 200 ? $r->{content} : outcome($r), $want,
        "REST: a response of 4096 bytes ($how) is forwarded whole");
    is(outcome(send_text("/rest/generate_client_token/small?user=${how}4097")),
        "502 the service's response exceeds subrequest_output_buffer_size",
        "REST: a response of 4097 bytes ($how) gets 502");
}

###############################################################################
# configuration (nginx -t)

my $REST = 'webpubsub_endpoint http://h; webpubsub_access_key k;'
    . ' webpubsub_hub chat; webpubsub_rest_pass /_svc/;';
# the internal location webpubsub_rest_pass names, in every server
my $SVC = 'location /_svc/ { internal; proxy_pass http://127.0.0.1:1; }';

# [ name, http-level lines, expected error (regex) or undef ]
my @conf = (
    [ 'webpubsub_rest with 100 parameters',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all $EX100; } }",
      undef ],
    [ 'webpubsub_rest with 101 parameters',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all $EX100"
      . ' excluded=e101; } }',
      qr/"webpubsub_rest" directive has more than 100 parameters/ ],
    [ 'literal group of 1024 units (1022 ASCII + U+1F600)',
      "$REST server { $SVC location /a { webpubsub_rest group_exists group="
      . ('g' x 1022) . "$smile; } }", undef ],
    [ 'literal group of 1025 units (1023 ASCII + U+1F600)',
      "$REST server { $SVC location /a { webpubsub_rest group_exists group="
      . ('g' x 1023) . "$smile; } }",
      qr/"webpubsub_rest" directive: parameter "group" is longer than 1024 characters/ ],
    [ 'literal ttl=300',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all ttl=300; } }",
      undef ],
    [ 'literal ttl=301',
      "$REST server { $SVC location /a { webpubsub_rest send_to_all ttl=301; } }",
      qr/"webpubsub_rest" directive: parameter "ttl" must be a whole number of seconds from 0 to 300/ ],
    [ 'literal max_page_size=200',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' max_page_size=200; } }', undef ],
    [ 'literal max_page_size=201',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' max_page_size=201; } }',
      qr/"webpubsub_rest" directive: parameter "max_page_size" must be a whole number from 1 to 200/ ],
    [ 'literal top=2147483647',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' top=2147483647; } }', undef ],
    [ 'literal top=2147483648',
      "$REST server { $SVC location /a { webpubsub_rest list_connections group=g"
      . ' top=2147483648; } }',
      qr/"webpubsub_rest" directive: parameter "top" must be a whole number from 1 to 2147483647/ ],
    [ 'literal user of 4090 bytes, the longest a parameter can hold',
      "$REST server { $SVC location /a { webpubsub_rest send_to_user user="
      . ('u' x 4090) . '; } }', undef ],
    [ 'literal user of 4091 bytes: nginx\'s own "too long parameter"',
      "$REST server { $SVC location /a { webpubsub_rest send_to_user user="
      . ('u' x 4091) . '; } }',
      qr/too long parameter "user=u+\.\.\." started in/ ],
);

$t->nginx_t_limit(@$_) for @conf;

$t->done();
