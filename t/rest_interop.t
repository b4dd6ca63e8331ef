#!/usr/bin/perl

# REST through subrequests, against the official SDK.  For every one of the
# 25 operations, with all options, with none, and with awkward ids, bodies
# and filters, nginx (webpubsub_rest) and @azure/web-pubsub (run by
# t/oracle/rest.js) call the same recording stand-in of the service
# (t/fixtures/rest_recorder.js) with the same inputs.  Each request nginx
# sends must match the SDK's in method, raw URL, Content-Type, body bytes,
# Content-Length and Accept; both must pass the service's token check; no
# header of the caller may reach the service; and the caller must get the
# service's answer, which must agree with the SDK's result.

use strict;
use warnings;
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use MIME::Base64 qw(encode_base64);
use WebPubSub::Nginx;
use RestRecorder;

my $KEY = 'rest-interop-key+/=';
my $ENTRA = 'entra-token-for-rest-interop';

# Headers nginx may send that the SDK does not, or with other values; the
# Authorization value differs too (another token), but not its name.
my %MAY_DIFFER = map { $_ => 1 } qw(user-agent x-ms-client-request-id
    accept-encoding connection host);

# What the caller sends along, none of which may reach the service.
my %CALLER_HEADERS = (
    'Cookie'        => 'session=cookie-secret-1234',
    'Authorization' => 'Basic dXNlcjpiYXNpYy1zZWNyZXQ=',
    'X-Secret'      => 'x-secret-value-5678',
);
my @SECRETS = ('cookie-secret-1234', 'dXNlcjpiYXNpYy1zZWNyZXQ=',
    'x-secret-value-5678');

###############################################################################
# Operations: the parameters each takes, as the SDK does.  A parameter is
# bound to the query argument of the same name, the repeatable ones to
# numbered arguments (ex1.., role1.., g1..).

my %REPEATED = (
    excluded => [qw(ex1 ex2 ex3)],
    role     => [qw(role1 role2)],
    groups   => [qw(g1 g2 g3)],     # "group" given several times
);

my %OPS = (
    health                            => [],
    send_to_all                       => [qw(excluded filter ttl)],
    send_to_user                      => [qw(user filter ttl)],
    send_to_group                     => [qw(group excluded filter ttl)],
    send_to_connection                => [qw(connection ttl)],
    add_user_to_group                 => [qw(user group)],
    remove_user_from_group            => [qw(user group)],
    add_connection_to_group           => [qw(connection group)],
    remove_connection_from_group      => [qw(connection group)],
    remove_connection_from_all_groups => [qw(connection)],
    remove_user_from_all_groups       => [qw(user)],
    add_connections_to_groups         => [qw(groups filter)],
    remove_connections_from_groups    => [qw(groups filter)],
    list_connections                  => [qw(group max_page_size top)],
    connection_exists                 => [qw(connection)],
    user_exists                       => [qw(user)],
    group_exists                      => [qw(group)],
    close_connection                  => [qw(connection reason)],
    close_all_connections             => [qw(excluded reason)],
    close_user_connections            => [qw(user excluded reason)],
    close_group_connections           => [qw(group excluded reason)],
    grant_permission                  => [qw(connection permission target)],
    revoke_permission                 => [qw(connection permission target)],
    check_permission                  => [qw(connection permission target)],
    generate_client_token             => [qw(user role groups ttl_minutes protocol)],
);

my %EXISTS = map { $_ => 1 }
    qw(connection_exists user_exists group_exists check_permission);

sub directive_args {
    my ($op) = @_;
    my @args;
    for my $p (@{ $OPS{$op} }) {
        my $name = $p eq 'groups' ? 'group' : $p;
        if ($REPEATED{$p}) {
            push @args, map { "$name=\$webpubsub_arg_$_" } @{ $REPEATED{$p} };
        } else {
            push @args, "$name=\$webpubsub_arg_$p";
        }
    }
    return join('', map { " $_" } @args);
}

sub rest_locations {
    my $s = '';
    for my $op (sort keys %OPS) {
        $s .= "        location = /rest/$op {\n"
            . "            webpubsub_rest_pass /_wps/;\n"
            . "            webpubsub_rest $op" . directive_args($op) . ";\n"
            . "        }\n";
    }
    return $s;
}

###############################################################################
# Cases

my $F = "userId eq 'a'";
my $HI = 'hi';

sub body_text { (body => encode_utf8($_[0]), type => 'text/plain') }
sub body_json { (body => encode_utf8($_[0]), type => 'application/json') }
sub body_binary { (body => $_[0], type => 'application/octet-stream') }

my @cases = (
    # the simple input set, every operation with every option
    { op => 'health' },
    { op => 'send_to_all', body_text($HI),
      params => { filter => $F, excluded => ['c2', 'c3'], ttl => 10 } },
    { op => 'send_to_user', body_text($HI),
      params => { user => 'u1', filter => $F, ttl => 10 } },
    { op => 'send_to_group', body_text($HI),
      params => { group => 'g1', filter => $F, excluded => ['c2', 'c3'], ttl => 10 } },
    { op => 'send_to_connection', body_text($HI),
      params => { connection => 'c1', ttl => 10 } },
    { op => 'add_user_to_group', params => { user => 'u1', group => 'g1' } },
    { op => 'remove_user_from_group', params => { user => 'u1', group => 'g1' } },
    { op => 'add_connection_to_group', params => { connection => 'c1', group => 'g1' } },
    { op => 'remove_connection_from_group', params => { connection => 'c1', group => 'g1' } },
    { op => 'remove_connection_from_all_groups', params => { connection => 'c1' } },
    { op => 'remove_user_from_all_groups', params => { user => 'u1' } },
    { op => 'add_connections_to_groups', params => { group => ['g1'], filter => $F } },
    { op => 'remove_connections_from_groups', params => { group => ['g1'], filter => $F } },
    { op => 'list_connections', params => { group => 'g1', max_page_size => 2, top => 3 } },
    { op => 'connection_exists', params => { connection => 'c1' } },
    { op => 'user_exists', params => { user => 'u1' } },
    { op => 'group_exists', params => { group => 'g1' } },
    { op => 'close_connection', params => { connection => 'c1', reason => 'bye' } },
    { op => 'close_all_connections', params => { excluded => ['c2', 'c3'], reason => 'bye' } },
    { op => 'close_user_connections',
      params => { user => 'u1', excluded => ['c2', 'c3'], reason => 'bye' } },
    { op => 'close_group_connections',
      params => { group => 'g1', excluded => ['c2', 'c3'], reason => 'bye' } },
    (map { +{ op => $_, params => { connection => 'c1', permission => 'sendToGroup',
                                    target => 'g1' } } }
        qw(grant_permission revoke_permission check_permission)),
    { op => 'generate_client_token',
      params => { user => 'u1', role => ['r1', 'r2'], group => ['g1'],
                  ttl_minutes => 5, protocol => 'mqtt' } },

    # every option absent
    { op => 'send_to_all', body_text($HI), tag => 'no options' },
    { op => 'send_to_user', body_text($HI), params => { user => 'u1' }, tag => 'no options' },
    { op => 'send_to_group', body_text($HI), params => { group => 'g1' }, tag => 'no options' },
    { op => 'send_to_connection', body_text($HI), params => { connection => 'c1' },
      tag => 'no options' },
    { op => 'close_connection', params => { connection => 'c1' }, tag => 'no options' },
    { op => 'close_all_connections', tag => 'no options' },
    { op => 'close_user_connections', params => { user => 'u1' }, tag => 'no options' },
    { op => 'close_group_connections', params => { group => 'g1' }, tag => 'no options' },
    { op => 'add_connections_to_groups', params => { group => ['g1'] }, tag => 'no filter' },
    { op => 'remove_connections_from_groups', params => { group => ['g1'] },
      tag => 'no filter' },
    { op => 'list_connections', params => { group => 'g1' }, tag => 'no paging options' },
    (map { +{ op => $_, params => { connection => 'c1', permission => 'sendToGroup' },
              tag => 'no target' } }
        qw(grant_permission revoke_permission check_permission)),
    { op => 'generate_client_token', tag => 'no options' },

    # awkward inputs
    { op => 'send_to_user', tag => 'reserved characters, doubled quotes, ttl 0, JSON',
      body_json('{"a":[1,"x"],"b":{"c":null,"d":true}}'),
      params => { user => "user 1/\x{e9}'+%!*()~", filter => "userId eq 'vic''s'",
                  ttl => 0 } },
    { op => 'send_to_group', tag => 'quotes, slashes, three excluded, ttl 300, binary',
      body_binary(join('', map { chr } 0 .. 255)),
      params => { group => qq{g "q" \x{e9}/\x{fc}+%25},
                  excluded => ['c 1', 'c/2', "c'3"], ttl => 300 } },
    { op => 'send_to_all', tag => 'query with + for spaces, UTF-8 text',
      body_text("h\x{e9}llo w\x{f6}rld\n"), plus => 1,
      params => { excluded => ['a b', "\x{e9} c"], filter => "'room 1' in groups" } },
    { op => 'send_to_connection', tag => 'id with / & = %, JSON with UTF-8',
      body_json(qq{{"msg":"h\x{e9}llo","n":[1,2.5,-3]}}),
      params => { connection => 'conn/with space&x=%20', ttl => 0 } },
    { op => 'send_to_all', tag => 'empty text body', body_text('') },
    { op => 'send_to_all', tag => 'a JSON string', body_json('"just a string"') },
    { op => 'send_to_user', tag => 'non-ASCII id and text',
      body_text("\x{4f60}\x{597d}"), params => { user => "\x{7528}\x{6237}" } },
    { op => 'send_to_group', tag => 'caller Content-Type with a charset',
      body_json('{"k":"v"}'), caller_type => 'application/json; charset=utf-8',
      params => { group => 'g1' } },
    { op => 'add_user_to_group', tag => 'slash and percent',
      params => { user => "\x{fc}/ser", group => 'grp 100%' } },
    { op => 'remove_connection_from_group', tag => 'quote, ? and #',
      params => { connection => "c'1", group => 'a/b?c#d' } },
    { op => 'remove_user_from_all_groups', tag => 'an encoded-looking id',
      params => { user => '%2F already encoded' } },
    { op => 'list_connections', tag => 'one per page, top 4, awkward group',
      params => { group => "live group/\x{e9}", max_page_size => 1, top => 4 } },
    { op => 'user_exists', tag => 'exists', params => { user => 'live user/1' } },
    { op => 'user_exists', tag => 'a tab', params => { user => "live\ttab" } },
    { op => 'connection_exists', tag => 'exists', params => { connection => "live'c+1" } },
    { op => 'group_exists', tag => 'exists', params => { group => "live g 1/\x{e9}" } },
    { op => 'check_permission', tag => 'exists, joinLeaveGroup',
      params => { connection => 'live-c 1', permission => 'joinLeaveGroup',
                  target => "g/1 \x{e9}" } },
    { op => 'close_user_connections', tag => 'plus, percent, ampersand',
      params => { user => 'u+1', excluded => ['a b', 'c%d', 'e/f'],
                  reason => 'bye bye & thanks = 100%' } },
    { op => 'close_group_connections', tag => 'quotes',
      params => { group => "'quoted'", excluded => ["x'y"], reason => "l'\x{e9}t\x{e9}" } },
    { op => 'generate_client_token', tag => 'awkward user, roles and groups, socketio',
      params => { user => "\x{e9} 1/x", role => ['webpubsub.joinLeaveGroup.g 1', "r'2"],
                  group => ['g 1', 'g/2'], ttl_minutes => 1440, protocol => 'socketio' } },
    { op => 'add_connections_to_groups', tag => 'three awkward groups',
      params => { group => ['g 1', "\x{e9}", 'x"y'], filter => "userId eq 'vic''s'" } },
    { op => 'check_permission', tag => 'called with POST', method => 'POST',
      params => { connection => 'c 1', permission => 'sendToGroup', target => 'g 1' } },
    { op => 'send_to_all', tag => 'hub from a variable', vhub => 'Hub_2`,.[x]',
      body_text($HI), params => { ttl => 5 } },
    { op => 'send_to_group', tag => 'endpoint with a path', base => 1,
      body_text($HI), params => { group => 'g 1', excluded => ['c2'] } },
    { op => 'list_connections', tag => 'endpoint with a path', base => 1,
      params => { group => 'g1' } },
    { op => 'connection_exists', tag => 'endpoint with a path', base => 1,
      params => { connection => 'live-1' } },
    { op => 'generate_client_token', tag => 'endpoint with a path', base => 1,
      params => { user => 'u1' } },

    # values written in the directive, not taken per call: the call is
    # made once at start
    { op => 'send_to_all', tag => 'fixed, no options', fixed => 1, body_text($HI) },
    { op => 'send_to_group', tag => 'fixed, every option', fixed => 1,
      body_json('{"k":"v"}'),
      params => { group => "g 1/\x{e9}", filter => $F, excluded => ['c 2', "c'3"],
                  ttl => 7 } },
    { op => 'add_connections_to_groups', tag => 'fixed, awkward groups', fixed => 1,
      params => { group => ['g 1', "\x{e9}", 'x"y'], filter => "userId eq 'vic''s'" } },
    { op => 'list_connections', tag => 'fixed, one per page, top 4', fixed => 1,
      params => { group => "live group/\x{e9}", max_page_size => 1, top => 4 } },
    { op => 'close_user_connections', tag => 'fixed, plus and percent', fixed => 1,
      params => { user => 'u+1', excluded => ['a b'], reason => 'bye & 100%' } },
    { op => 'group_exists', tag => 'fixed, exists', fixed => 1,
      params => { group => "live g 1/\x{e9}" } },
    { op => 'generate_client_token', tag => 'fixed', fixed => 1,
      params => { user => 'u1', role => ['r1'], group => ['g1'], ttl_minutes => 5 } },
    { op => 'send_to_all', tag => 'fixed, endpoint with a path', fixed => 1, base => 1,
      body_text($HI), params => { ttl => 5 } },
);

# a case's values as constants of its directive, in its own location
sub fixed_locations {
    my ($base) = @_;
    my $s = '';
    for my $i (0 .. $#cases) {
        my $c = $cases[$i];
        next unless $c->{fixed} && !$c->{base} == !$base;
        my $p = $c->{params} // {};
        my @args;
        for my $name (sort keys %$p) {
            for my $v (ref $p->{$name} eq 'ARRAY' ? @{ $p->{$name} } : $p->{$name}) {
                die "a \$ in a fixed value" if $v =~ /\$/;
                (my $q = encode_utf8("$name=$v")) =~ s/(['\\])/\\$1/g;
                push @args, "'$q'";
            }
        }
        $s .= "        location = /fixed/$i {\n"
            . "            webpubsub_rest_pass /_wps/;\n"
            . "            webpubsub_rest $c->{op}" . join('', map { " $_" } @args)
            . ";\n        }\n";
    }
    return $s;
}

###############################################################################

my $t = WebPubSub::Nginx->new();
my $rec = RestRecorder->start($t, port => 1, keys => [$KEY, 'another-key'],
    entra_token => $ENTRA);
my $ORIGIN = $rec->origin;

my $locations = rest_locations();
my $fixed = fixed_locations(0);
my $fixed_base = fixed_locations(1);
my $vhub_args = directive_args('send_to_all');

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint http://127.0.0.1:%%PORT_1%%;
        webpubsub_access_key "$KEY";
        webpubsub_hub chat;

        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            subrequest_output_buffer_size 64k;
        }

$locations
$fixed
        location = /vhub/send_to_all {
            webpubsub_hub \$webpubsub_arg_hub;
            webpubsub_rest_pass /_wps/;
            webpubsub_rest send_to_all$vhub_args;
        }
    }

    # the same operations on an endpoint with a path
    server {
        listen 127.0.0.1:%%PORT_2%%;

        webpubsub_endpoint http://127.0.0.1:%%PORT_1%%/base;
        webpubsub_access_key "$KEY";
        webpubsub_hub chat;

        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
            subrequest_output_buffer_size 64k;
        }

$locations
$fixed_base
    }
}
EOF

$t->run();
$t->plan(15 * @cases + 1);

my $json = JSON::PP->new->utf8->canonical->allow_nonref;

sub escape {
    my ($s, $plus) = @_;
    my $b = encode_utf8("$s");
    $b =~ s/([^A-Za-z0-9\-._~ ])/sprintf('%%%02X', ord $1)/ge;
    $b =~ s/ /$plus ? '+' : '%20'/ge;
    return $b;
}

# the caller's query: module parameters as query arguments
sub caller_query {
    my ($c) = @_;
    my $p = $c->{params} // {};
    my @q;
    push @q, 'hub=' . escape($c->{vhub}, $c->{plus}) if defined $c->{vhub};
    for my $name (sort keys %$p) {
        my $v = $p->{$name};
        if (ref $v eq 'ARRAY') {
            my $slots = $REPEATED{ $name eq 'group' ? 'groups' : $name }
                or die "no slots for $name";
            die "too many values for $name" if @$v > @$slots;
            push @q, map { "$slots->[$_]=" . escape($v->[$_], $c->{plus}) } 0 .. $#$v;
        } else {
            push @q, "$name=" . escape($v, $c->{plus});
        }
    }
    return @q ? '?' . join('&', @q) : '';
}

sub case_index {
    my ($c) = @_;
    for my $i (0 .. $#cases) {
        return $i if $cases[$i] == $c;
    }
    die 'not a case';
}

sub case_name {
    my ($c) = @_;
    return $c->{op} . ($c->{tag} ? " ($c->{tag})" : '');
}

sub oracle_case {
    my ($c) = @_;
    my %o = (
        endpoint => $ORIGIN . ($c->{base} ? '/base' : ''),
        key      => $KEY,
        hub      => $c->{vhub} // 'chat',
        op       => $c->{op},
        params   => $c->{params} // {},
    );
    if (defined $c->{body}) {
        $o{body_b64} = encode_base64($c->{body}, '');
        $o{content_type} = $c->{type};
    }
    return \%o;
}

sub call_nginx {
    my ($c) = @_;
    my $send = defined $c->{body};
    # what only reads is called with GET; what changes something, POST
    my $reads = $c->{op} =~ /^(list_connections|.*_exists|check_permission|health)\z/;
    my $method = $c->{method} // ($send || !$reads ? 'POST' : 'GET');
    my $path = $c->{fixed} ? '/fixed/' . case_index($c)
        : ($c->{vhub} ? '/vhub/' : '/rest/') . $c->{op} . caller_query($c);
    my %headers = %CALLER_HEADERS;
    $headers{'Content-Type'} = $c->{caller_type} // $c->{type} if $send;
    return $t->request($method, $path,
        port => $t->port($c->{base} ? 2 : 0),
        headers => \%headers,
        ($send ? (body => $c->{body}) : ()));
}

sub names {
    my ($e) = @_;
    my %n;
    $n{ lc $_->[0] }++ for @{ $e->{raw_headers} };
    return \%n;
}

sub header_view {
    my ($e, $name) = @_;
    return $e->{headers}{$name} // '<none>';
}

# everything wrong with the token nginx signed, or ()
sub token_problems {
    my ($e) = @_;
    my $auth = $e->{headers}{authorization} // '';
    my ($token) = $auth =~ /^Bearer (\S+)\z/
        or return ("Authorization is not a Bearer token: $auth");
    my ($h, $p) = eval { jwt_decode($token) }
        or return ("the token does not decode: $@");
    my @bad;
    push @bad, 'alg is not HS256' unless ($h->{alg} // '') eq 'HS256';
    push @bad, 'no iat' unless defined $p->{iat} && $p->{iat} =~ /^\d+\z/;
    push @bad, 'no exp' unless defined $p->{exp} && $p->{exp} =~ /^\d+\z/;
    if (!@bad) {
        my $life = $p->{exp} - $p->{iat};
        push @bad, "exp - iat is $life" unless $life > 0 && $life <= 300;
        push @bad, "iat $p->{iat} is not now" if abs($p->{iat} - time()) > 60;
    }
    my $want = $ORIGIN . $e->{url};
    push @bad, 'aud is ' . ($p->{aud} // 'missing') . ", not $want"
        unless defined $p->{aud} && $p->{aud} eq $want;
    push @bad, 'the signature is not made with the key'
        unless jwt_verify_hs256($token, $KEY);
    return @bad;
}

###############################################################################

my @sdk = eval { $rec->oracle(map { oracle_case($_) } @cases) };
ok(@sdk == @cases, 'the SDK oracle ran every case') or diag($@);
my $sdk_seen = $rec->by_request_id;

for my $i (0 .. $#cases) {
    my $c = $cases[$i];
    my $name = case_name($c);
    my $o = $sdk[$i] // { ok => 0, requests => [] };

    my $before = $rec->count;
    my $r = call_nginx($c);
    my @ng = $rec->entries($before);
    my @sr = map { $sdk_seen->{ $_->{client_request_id} // '' } // {} }
        @{ $o->{requests} };

    ok($o->{ok}, "$name: the SDK call succeeds")
        or diag($json->encode($o));
    is($r->{status}, $o->{status}, "$name: the caller gets the SDK's status")
        or diag($r->{content});
    is(scalar @ng, scalar @sr, "$name: as many requests as the SDK");

    for my $what (
        [ 'method', sub { $_[0]{method} // '<none>' } ],
        [ 'raw URL', sub { $_[0]{url} // '<none>' } ],
        [ 'Content-Type', sub { header_view($_[0], 'content-type') } ],
        [ 'body bytes', sub { $_[0]{body_b64} // '<none>' } ],
        [ 'Content-Length and Transfer-Encoding', sub {
              header_view($_[0], 'content-length') . ' / '
                  . header_view($_[0], 'transfer-encoding') } ],
        [ 'Accept', sub { header_view($_[0], 'accept') } ],
    ) {
        my ($label, $get) = @$what;
        is_deeply([ map { $get->($_) } @ng ], [ map { $get->($_) } @sr ],
            "$name: $label as the SDK's");
    }

    my @unauth = map { "$_->{seq}: $_->{auth}{reason}" }
        grep { !$_->{auth}{ok} } @ng, @sr;
    # a second opinion on nginx's tokens: the recorder asks jsonwebtoken
    for my $e (@ng) {
        my $v = $e->{auth}{jsonwebtoken};
        push @unauth, "$e->{seq}: jsonwebtoken says " . ($v // 'nothing')
            unless JSON::PP::is_bool($v) && $v;
    }
    ok(@ng && @sr && !@unauth, "$name: the service accepts both tokens")
        or diag(join("\n", @unauth));

    my @leaks;
    for my $e (@ng) {
        my $n = names($e);
        push @leaks, "$e->{seq}: $_ header" for grep { $n->{$_} } qw(cookie x-secret);
        for my $pair (@{ $e->{raw_headers} }) {
            push @leaks, "$e->{seq}: $pair->[0] carries a caller secret"
                if grep { index($pair->[1], $_) >= 0 } @SECRETS;
        }
    }
    ok(@ng && !@leaks, "$name: no caller header reaches the service")
        or diag(join("\n", @leaks));

    my @extra;
    for my $k (0 .. $#ng) {
        my $n = names($ng[$k]);
        my $s = names($sr[$k] // {});
        push @extra, "request $k: $_" for
            grep { !$s->{$_} && !$MAY_DIFFER{$_} } sort keys %$n;
        push @extra, "request $k: $_ sent $n->{$_} times" for
            grep { $n->{$_} > 1 } sort keys %$n;
    }
    ok(@ng && !@extra, "$name: no header the SDK does not send")
        or diag(join("\n", @extra));

    my @bad = map { my $e = $_; map { "$e->{seq}: $_" } token_problems($e) } @ng;
    ok(@ng && !@bad, "$name: nginx's token is HS256, short-lived, for this URL")
        or diag(join("\n", @bad));

    is($r->{status}, @ng ? $ng[-1]{answer} : '<no request>',
        "$name: the caller gets the service's status");

    my $op = $c->{op};
    if ($EXISTS{$op}) {
        my $want = $o->{result} ? 200 : 404;
        ok($r->{status} == $want && $r->{content} eq '',
            "$name: the same answer as the SDK (" . ($o->{result} ? 'yes' : 'no')
            . '), empty body')
            or diag("$r->{status} '$r->{content}'");
    } elsif ($op eq 'list_connections') {
        my $got = eval { $json->decode($r->{content}) };
        is_deeply($got, { value => $o->{result} },
            "$name: the same items as the SDK");
    } elsif ($op eq 'generate_client_token') {
        my $got = eval { $json->decode($r->{content}) } // {};
        ok(defined $got->{token} && defined $o->{result}
            && $got->{token} eq $o->{result}{token},
            "$name: the same token as the SDK")
            or diag($r->{content});
    } else {
        ok($o->{ok} && $r->{status} =~ /^2\d\d\z/,
            "$name: a success for both");
    }
}

$t->done();
