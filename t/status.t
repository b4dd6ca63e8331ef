#!/usr/bin/perl

# webpubsub_status: with four workers, N requests of each kind (tokens
# signed with a key and got from the service, negotiate refusals,
# handshakes, events accepted and refused for several reasons, REST calls
# answered 2xx, 4xx and 5xx by the emulator, REST requests refused before
# any call, a service that is down, an Entra ID token fetched once and
# fetches that fail) show as exactly N in the counters, read as Prometheus
# text and as JSON.  The text passes a strict check of the format's rules
# (t/lib/WebPubSub/Prometheus.pm) and the npm parser
# parse-prometheus-text-format reads the same numbers from it; promtool,
# where installed, checks it too.  The counters survive a reload.  GET and
# HEAD only; ?format= prometheus or json, anything else a 400.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use IPC::Open2;
use WebPubSub::Nginx;
use WebPubSub::Identity;
use WebPubSub::Prometheus;
use RestRecorder;

# the App Service variables would turn managed_identity into another flow
delete @ENV{qw(IDENTITY_ENDPOINT IDENTITY_HEADER)};

my $N = 5;
my $KEY = 'status-test-key';
my $ORIGIN = 'hooks.example';
my $JSON = JSON::PP->new->utf8->canonical;
my $BROKEN_ID = 'c1e47999-0000-4000-8000-000000000999';

my $t = WebPubSub::Nginx->new();
my $rec = RestRecorder->start($t, port => 1, keys => [$KEY]);
$t->port(2);    # reserved, and nothing listens on it
my $idp = WebPubSub::Identity->start($t, port => 5, name => 'idp');
my $wps = WebPubSub::Identity::start_emulator($t, idp => $idp, port => 6);
my ($P5, $P6) = ($idp->port, $wps->port);

$t->write_conf(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    log_format pids \$pid;

    server {
        # reuseport: the kernel spreads the connections over the workers
        listen 127.0.0.1:%%PORT_0%% reuseport;
        access_log %%TESTDIR%%/pids.log pids;

        webpubsub_endpoint   http://127.0.0.1:%%PORT_1%%;
        webpubsub_access_key $KEY;
        webpubsub_hub        chat;
        webpubsub_rest_pass  /_wps/;

        location = /status { webpubsub_status; }

        location = /negotiate { webpubsub_token; }
        location = /negotiate/mqtt {
            webpubsub_token_protocol mqtt;
            webpubsub_token;
        }
        location = /negotiate/socketio {
            webpubsub_token_protocol socketio;
            webpubsub_token;
        }
        location = /negotiate/user {
            webpubsub_token_user_id \$arg_user;
            webpubsub_token;
        }
        location = /negotiate/hub {
            webpubsub_hub \$arg_hub;
            webpubsub_token;
        }

        location /_wps/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
        location /_dead/ {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
            proxy_connect_timeout 1s;
        }

        location = /rest/send_to_all { webpubsub_rest send_to_all; }
        location = /rest/send_to_user {
            webpubsub_rest send_to_user user=\$webpubsub_arg_user;
        }
        location = /rest/group_exists {
            webpubsub_rest group_exists group=\$webpubsub_arg_group;
        }
        location = /rest/dead {
            webpubsub_rest_pass /_dead/;
            webpubsub_rest send_to_all;
        }

        location /eventhandler/ {
            webpubsub_event_handler   on;
            webpubsub_allowed_origins $ORIGIN;
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }
        # the application's 404 goes to another gateway: one event still
        location /eventhandler/twice/ {
            webpubsub_event_handler   on;
            webpubsub_allowed_origins $ORIGIN;
            proxy_pass http://127.0.0.1:%%PORT_3%%/missing/;
            proxy_intercept_errors on;
            error_page 404 = \@again;
        }
        location \@again {
            webpubsub_event_handler   on;
            webpubsub_allowed_origins $ORIGIN;
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }

        # the variables outside negotiate: no refusal counted
        location = /static {
            webpubsub_hub \$arg_hub;
            add_header X-U \$webpubsub_client_url always;
            return 200 "static";
        }
        location /app/ {
            webpubsub_refuse_stray_events on;
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }
    }

    # the application behind the gateway
    server {
        listen 127.0.0.1:%%PORT_3%%;
        location / { return 200 "app"; }
        location /missing/ { return 404; }
    }

    # no service: the variables at server level
    server {
        listen 127.0.0.1:%%PORT_7%%;
        add_header X-U \$webpubsub_client_url always;
        location / { return 200 "static"; }
    }

    # a resource without keys: Microsoft Entra ID
    server {
        listen 127.0.0.1:%%PORT_4%%;

        webpubsub_endpoint        http://127.0.0.1:$P6;
        webpubsub_credential      managed_identity;
        webpubsub_credential_pass /_identity;
        webpubsub_hub             chat;
        webpubsub_rest_pass       /_wps;

        location = /_identity { internal; proxy_pass http://127.0.0.1:$P5; }
        location = /_identity_dead {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%;
        }
        location = /_wps { internal; proxy_pass http://127.0.0.1:$P6; }

        location = /negotiate { webpubsub_token; }
        location = /gone {
            webpubsub_endpoint        http://127.0.0.1:$P6;
            webpubsub_credential      workload_identity client_id=$BROKEN_ID
                                      tenant_id=$BROKEN_ID
                                      token_file=%%TESTDIR%%/federated.jwt;
            webpubsub_credential_pass /_identity_dead;
            webpubsub_rest            send_to_all;
        }
        location = /broken {
            webpubsub_endpoint        http://127.0.0.1:$P6;
            webpubsub_credential      managed_identity client_id=$BROKEN_ID;
            webpubsub_credential_pass /_identity_dead;
            webpubsub_rest            send_to_all;
        }
    }
}
EOF
my $conf = $t->read_file('nginx.conf');
$conf =~ s/worker_processes 1;/worker_processes 4;/ or die "workers\n";
$t->write_file('nginx.conf', $conf);
$t->write_file('federated.jwt', 'x.y.z');
$t->run();
# the token file goes after nginx -t: the fetch cannot be made
unlink($t->testdir . '/federated.jwt') or die "unlink: $!\n";

$t->plan(75);

# --- the answers of the location itself -------------------------------

my $r = $t->get('/status');
is($r->{status}, 200, 'status: 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8',
    'status: Prometheus text 0.0.4 by default');
is($r->{headers}{'cache-control'}, 'no-store', 'status: never cached');

$r = $t->get('/status?format=prometheus');
like($r->{content}, qr/^webpubsub_info\{version="0\.1\.0"\} 1$/m,
    '?format=prometheus: the text too');

$r = $t->get('/status?format=json');
is($r->{headers}{'content-type'}, 'application/json', '?format=json: JSON');

$r = $t->request('HEAD', '/status?format=json');
ok($r->{status} == 200 && ($r->{content} // '') eq '', 'HEAD: 200, no body');
# nothing counts between the two: the same length
is($r->{headers}{'content-length'},
    length($t->get('/status?format=json')->{content}),
    "HEAD: the GET's Content-Length");

$r = $t->request('POST', '/status', body => 'x');
is($r->{status}, 405, 'POST: 405');
is($r->{headers}{allow}, 'GET, HEAD', 'POST: Allow: GET, HEAD');

$r = $t->get('/status?format=xml');
is($r->{status}, 400, '?format=xml: 400');
like($r->{content}, qr/format must be/, '?format=xml: the reason');

# --- N of each kind ----------------------------------------------------

sub sig { 'sha256=' . hmac_sha256_hex($KEY, $_[0]) }

sub event {
    my (%o) = @_;
    my $conn = $o{connection} // 'conn-1';
    my %h = (
        'WebHook-Request-Origin' => $ORIGIN,
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => $o{type} // 'azure.webpubsub.sys.connected',
        'ce-signature' => sig($conn),
        'ce-connectionId' => $conn,
        'ce-hub' => 'chat',
        'ce-userId' => 'alice',
        'Content-Type' => 'application/json',
    );
    $h{$_} = $o{set}{$_} for keys %{ $o{set} // {} };
    delete $h{$_} for @{ $o{drop} // [] };
    return $t->request($o{method} // 'POST', $o{path} // '/eventhandler/',
        headers => \%h, body => '{}');
}

my $long = 'u' x 5000;
my %E = (
    entra => sub { $t->get('/negotiate', port => $t->port(4)) },
);

my @kinds = (
    [ 'negotiate, key',     200, sub { $t->get('/negotiate') } ],
    [ 'negotiate, mqtt',    200, sub { $t->get('/negotiate/mqtt') } ],
    [ 'negotiate, socketio', 200, sub { $t->request('POST',
        '/negotiate/socketio') } ],
    [ 'negotiate, DELETE',  405, sub { $t->request('DELETE', '/negotiate') } ],
    [ 'negotiate, bad hub', 400, sub { $t->get('/negotiate/hub?hub=1x') } ],
    [ 'negotiate, long user', 400,
        sub { $t->get("/negotiate/user?user=$long") } ],
    [ 'negotiate, Entra',   200, $E{entra} ],
    [ 'handshake',          200, sub { $t->request('OPTIONS',
        '/eventhandler/', headers => { 'WebHook-Request-Origin' => $ORIGIN })
        } ],
    [ 'handshake, origin',  400, sub { $t->request('OPTIONS',
        '/eventhandler/',
        headers => { 'WebHook-Request-Origin' => 'evil.example' }) } ],
    [ 'event, connected',   200, sub { event() } ],
    [ 'event, 404 to another gateway', 200, sub { event(
        path => '/eventhandler/twice/', type => 'azure.webpubsub.sys.connect')
        } ],
    [ 'variables, bad hub', 200, sub { $t->get('/static?hub=1x') } ],
    [ 'variables, no service', 200, sub { $t->get('/',
        port => $t->port(7)) } ],
    [ 'REST, token file gone', 502, sub { $t->request('POST', '/gone',
        port => $t->port(4), body => 'hi',
        headers => { 'Content-Type' => 'text/plain' }) } ],
    [ 'event, user',        200, sub { event(
        type => 'azure.webpubsub.user.message') } ],
    [ 'event, bad signature', 401, sub { event(
        set => { 'ce-signature' => 'sha256=' . ('0' x 64) }) } ],
    [ 'event, no signature', 401, sub { event(drop => ['ce-signature']) } ],
    [ 'event, wrong hub',   400, sub { event(set => { 'ce-hub' => 'other' })
        } ],
    [ 'event, no ce-type',  400, sub { event(drop => ['ce-type']) } ],
    [ 'event, GET',         405, sub { event(method => 'GET') } ],
    [ 'event, stray',       403, sub { event(path => '/app/x') } ],
    [ 'REST send_to_all',   202, sub { $t->request('POST',
        '/rest/send_to_all', body => 'hi',
        headers => { 'Content-Type' => 'text/plain' }) } ],
    [ 'REST send_to_user',  202, sub { $t->request('POST',
        '/rest/send_to_user?user=alice', body => 'hi',
        headers => { 'Content-Type' => 'text/plain' }) } ],
    [ 'REST group_exists, no group', 404, sub { $t->get(
        '/rest/group_exists?group=nope') } ],
    [ 'REST, GET',          405, sub { $t->get('/rest/send_to_all') } ],
    [ 'REST, no user',      400, sub { $t->request('POST',
        '/rest/send_to_user', body => 'hi',
        headers => { 'Content-Type' => 'text/plain' }) } ],
    [ 'REST, image/png',    415, sub { $t->request('POST',
        '/rest/send_to_all', body => 'hi',
        headers => { 'Content-Type' => 'image/png' }) } ],
    [ 'REST, service down', 502, sub { $t->request('POST', '/rest/dead',
        body => 'hi', headers => { 'Content-Type' => 'text/plain' }) } ],
    [ 'REST, identity down', 502, sub { $t->request('POST', '/broken',
        port => $t->port(4), body => 'hi',
        headers => { 'Content-Type' => 'text/plain' }) } ],
);

for my $k (@kinds) {
    my ($name, $want, $code) = @$k;
    my @got = map { $code->()->{status} } 1 .. $N;
    is_deepstream(\@got, $want, $name);
}

# the service answers 503 for a while
$rec->control({ mode => 'status', status => 503, body => '{}' });
my @got = map { $t->request('POST', '/rest/send_to_all', body => 'hi',
    headers => { 'Content-Type' => 'text/plain' })->{status} } 1 .. $N;
$rec->control({ mode => 'normal' });
is_deepstream(\@got, 503, 'REST send_to_all, the service says 503');

sub is_deepstream {
    my ($got, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is(join(',', @$got), join(',', ($want) x $N), "$name: $N x $want");
}

# --- what the counters say ---------------------------------------------

my %want = (
    'webpubsub_tokens_issued_total{how=key,protocol=default}' => $N,
    'webpubsub_tokens_issued_total{how=key,protocol=mqtt}' => $N,
    'webpubsub_tokens_issued_total{how=key,protocol=socketio}' => $N,
    'webpubsub_tokens_issued_total{how=service,protocol=default}' => $N,
    'webpubsub_tokens_issued_total{how=service,protocol=mqtt}' => 0,
    'webpubsub_negotiate_refused_total{reason=method}' => $N,
    'webpubsub_negotiate_refused_total{reason=bad_hub}' => $N,
    'webpubsub_negotiate_refused_total{reason=too_long}' => $N,
    'webpubsub_negotiate_refused_total{reason=no_service}' => 0,
    'webpubsub_handshakes_total{result=accepted}' => $N,
    'webpubsub_handshakes_total{result=refused}' => $N,
    'webpubsub_events_accepted_total{type=connected}' => $N,
    'webpubsub_events_accepted_total{type=user}' => $N,
    'webpubsub_events_accepted_total{type=connect}' => $N,
    'webpubsub_events_refused_total{reason=bad_signature}' => $N,
    'webpubsub_events_refused_total{reason=missing_signature}' => $N,
    'webpubsub_events_refused_total{reason=wrong_hub}' => $N,
    'webpubsub_events_refused_total{reason=missing_attribute}' => $N,
    'webpubsub_events_refused_total{reason=method}' => $N,
    'webpubsub_events_refused_total{reason=stray}' => $N,
    'webpubsub_events_refused_total{reason=duplicate_header}' => 0,
    'webpubsub_rest_requests_total{operation=send_to_all,status=2xx}' => $N,
    'webpubsub_rest_requests_total{operation=send_to_all,status=5xx}' => $N,
    'webpubsub_rest_requests_total{operation=send_to_all,status=none}' => $N,
    'webpubsub_rest_requests_total{operation=send_to_user,status=2xx}' => $N,
    'webpubsub_rest_requests_total{operation=group_exists,status=4xx}' => $N,
    'webpubsub_rest_requests_total{operation=generate_client_token,'
        . 'status=2xx}' => $N,
    'webpubsub_rest_refused_total{reason=method}' => $N,
    'webpubsub_rest_refused_total{reason=bad_parameter}' => $N,
    'webpubsub_rest_refused_total{reason=content_type}' => $N,
    'webpubsub_rest_refused_total{reason=misrouted}' => 0,
    'webpubsub_service_faults_total{kind=unreachable}' => $N,
    'webpubsub_service_faults_total{kind=5xx}' => $N,
    'webpubsub_service_faults_total{kind=identity}' => 2 * $N,
    'webpubsub_service_faults_total{kind=timeout}' => 0,
    # one token for all four workers, and one fetch per broken request
    'webpubsub_identity_fetches_total{what=token}' => 1 + 2 * $N,
    'webpubsub_identity_fetches_total{what=keys}' => 0,
    'webpubsub_identity_fetch_failures_total{what=token,reason=unreachable}'
        => $N,
    'webpubsub_identity_fetch_failures_total{what=token,'
        . 'reason=misconfigured}' => $N,
    'webpubsub_rest_duration_seconds_count{operation=send_to_all}' => 3 * $N,
    'webpubsub_rest_duration_seconds_count{operation=group_exists}' => $N,
);

# "name{a=x,b=y}" as a sample name and its labels
sub series {
    my ($key) = @_;
    my ($name, $l) = $key =~ /^(\w+)(?:\{(.*)\})?$/ or die $key;
    return ($name, map { split /=/, $_, 2 } split /,/, $l // '');
}

# the same series in the JSON document
sub json_value {
    my ($doc, $key) = @_;
    my ($name, %l) = series($key);
    my %path = (
        webpubsub_tokens_issued_total => [ 'tokens_issued', 'how',
            'protocol' ],
        webpubsub_negotiate_refused_total => [ 'negotiate_refused',
            'reason' ],
        webpubsub_handshakes_total => [ 'handshakes', 'result' ],
        webpubsub_events_accepted_total => [ 'events_accepted', 'type' ],
        webpubsub_events_refused_total => [ 'events_refused', 'reason' ],
        webpubsub_rest_requests_total => [ 'rest_requests', 'operation',
            'status' ],
        webpubsub_rest_refused_total => [ 'rest_refused', 'reason' ],
        webpubsub_service_faults_total => [ 'service_faults', 'kind' ],
        webpubsub_identity_fetches_total => [ 'identity_fetches', 'what' ],
        webpubsub_identity_fetch_failures_total => [
            'identity_fetch_failures', 'what', 'reason' ],
        webpubsub_rest_duration_seconds_count => [ 'rest_duration_seconds',
            'operation', '=count' ],
    );
    my ($top, @labels) = @{ $path{$name} or die "no JSON path for $name" };
    my $v = $doc->{$top};
    for my $l (@labels) {
        $v = $l =~ /^=(.*)/ ? $v->{$1} : $v->{ $l{$l} };
        return undef unless defined $v;
    }
    return $v;
}

sub prom_value {
    my ($fams, $key) = @_;
    return WebPubSub::Prometheus::value($fams, series($key));
}

sub node_parse {
    my ($text) = @_;
    my $pid = open2(my $out, my $in, $ENV{TEST_NODE} // 'node',
        "$FindBin::Bin/fixtures/prom_parse.js");
    binmode $in;
    print $in $text;
    close $in;
    local $/;
    my $line = <$out>;
    waitpid($pid, 0);
    return $JSON->decode($line);
}

# The npm parser's value of a series.  That parser reads a histogram
# with labels other than "le" as one (it keys buckets by le alone): each
# operation's histogram is given to it on its own, that label left out.
sub node_value {
    my ($parsed, $key, $text) = @_;
    my ($name, %l) = series($key);
    if ($name eq 'webpubsub_rest_duration_seconds_count') {
        my $op = $l{operation};
        my $one = join '', "# TYPE webpubsub_rest_duration_seconds "
            . "histogram\n", map { s/operation="\Q$op\E",?//r }
            grep { /^webpubsub_rest_duration_seconds_\w+\{operation="\Q$op\E"/ }
            split /^/, $text;
        my $h = node_parse($one);
        return $h->{error} ? "error: $h->{error}"
                           : $h->{families}[0]{metrics}[0]{count};
    }
    my ($f) = grep { $_->{name} eq $name } @{ $parsed->{families} };
    M: for my $m (@{ $f ? $f->{metrics} : [] }) {
        for my $k (keys %l) {
            next M unless ($m->{labels}{$k} // '') eq $l{$k};
        }
        return $m->{value};
    }
    return undef;
}

sub check_counters {
    my ($when) = @_;

    my $text = $t->get('/status')->{content};
    my $doc = eval { $JSON->decode($t->get('/status?format=json')
        ->{content}) };
    ok($doc, "$when: the JSON parses") or diag($@);
    $doc //= {};

    my ($fams, @errors) = WebPubSub::Prometheus::check($text);
    ok(!@errors, "$when: the text keeps every rule of the format")
        or diag(join "\n", @errors);

    my $parsed = node_parse($text);
    ok(!$parsed->{error}, "$when: parse-prometheus-text-format reads it")
        or diag($parsed->{error});
    $parsed->{families} //= [];

    my (@bad_text, @bad_json, @bad_node);
    for my $key (sort keys %want) {
        my $p = prom_value($fams, $key);
        my $j = json_value($doc, $key);
        my $n = node_value($parsed, $key, $text);
        # a series of 0 may be left out of a sparse family
        push @bad_text, "$key: " . ($p // 'absent')
            unless ($p // 0) == $want{$key};
        push @bad_json, "$key: " . ($j // 'absent')
            unless ($j // 0) == $want{$key};
        push @bad_node, "$key: " . ($n // 'absent')
            unless ($n // 0) == $want{$key};
    }
    # every series not wanted is 0: a count under the wrong label fails;
    # and every series is there, but for the two sparse families
    for my $fam (sort keys %$fams) {
        for my $s (@{ $fams->{$fam}{samples} }) {
            next if $s->{name} =~ /^webpubsub_(?:info|start_time_seconds
                |rest_duration_seconds)/x;
            my $key = $s->{name} . '{' . join(',', map {
                "$_=$s->{labels}{$_}" } sort keys %{ $s->{labels} }) . '}';
            my ($k) = grep { join(',', sort split /,/, s/^\w+\{|\}$//gr)
                eq join(',', sort split /,/, $key =~ s/^\w+\{|\}$//gr)
                && /^\Q$s->{name}\E\{/ } keys %want;
            push @bad_text, "$key: $s->{value}, not 0"
                if !defined $k && $s->{value} != 0;
        }
    }
    my %rows = (
        webpubsub_tokens_issued_total => 2 * 3,
        webpubsub_negotiate_refused_total => 7,
        webpubsub_handshakes_total => 2,
        webpubsub_events_accepted_total => 4,
        webpubsub_events_refused_total => 13,
        webpubsub_rest_refused_total => 5,
        webpubsub_service_faults_total => 5,
        webpubsub_identity_fetches_total => 2,
        webpubsub_identity_fetch_failures_total => 2 * 6,
    );
    for my $fam (sort keys %rows) {
        my $n = @{ $fams->{$fam}{samples} // [] };
        push @bad_text, "$fam: $n series, not $rows{$fam}"
            unless $n == $rows{$fam};
    }

    ok(!@bad_text, "$when: the text has exactly the counts")
        or diag(join "\n", @bad_text);
    ok(!@bad_json, "$when: the JSON has exactly the counts")
        or diag(join "\n", @bad_json);
    ok(!@bad_node, "$when: the npm parser reads exactly the counts")
        or diag(join "\n", @bad_node);

    # every family with HELP and TYPE, as the npm parser reads them
    my %types = map { $_->{name} => $_->{type} } @{ $parsed->{families} };
    is_deeply(\%types, {
        webpubsub_info => 'GAUGE',
        webpubsub_start_time_seconds => 'GAUGE',
        (map { $_ => 'COUNTER' } qw(webpubsub_tokens_issued_total
            webpubsub_negotiate_refused_total webpubsub_handshakes_total
            webpubsub_events_accepted_total webpubsub_events_refused_total
            webpubsub_rest_requests_total webpubsub_rest_refused_total
            webpubsub_service_faults_total webpubsub_identity_fetches_total
            webpubsub_identity_fetch_failures_total)),
        webpubsub_rest_duration_seconds => 'HISTOGRAM',
    }, "$when: every family and its type");
    ok(!grep({ !length($_->{help}) } @{ $parsed->{families} }),
        "$when: every family has its HELP");

    # one histogram count per call: the calls' total by status
    my %calls;
    for my $s (@{ $fams->{webpubsub_rest_requests_total}{samples} }) {
        $calls{ $s->{labels}{operation} } += $s->{value};
    }
    my %counts = map { $_->{labels}{operation} => $_->{value} }
        grep { $_->{name} =~ /_count$/ }
        @{ $fams->{webpubsub_rest_duration_seconds}{samples} };
    is_deeply(\%counts, \%calls, "$when: a duration for every call");

    # the JSON has the same numbers as the text, series by series
    my @differ;
    for my $fam (keys %$fams) {
        next if $fam =~ /^webpubsub_(?:info|start_time_seconds|rest_duration)/;
        for my $s (@{ $fams->{$fam}{samples} }) {
            my $key = $s->{name} . '{' . join(',', map {
                "$_=$s->{labels}{$_}" } keys %{ $s->{labels} }) . '}';
            my $j = json_value($doc, $key);
            push @differ, "$key: text $s->{value}, JSON " . ($j // 'absent')
                unless defined $j && $j == $s->{value};
        }
    }
    ok(!@differ, "$when: the JSON and the text agree on every series")
        or diag(join "\n", @differ);

    is($doc->{version}, '0.1.0', "$when: JSON version");
    is(prom_value($fams, 'webpubsub_start_time_seconds'), $doc->{start_time},
        "$when: one start time in both");

  SKIP: {
        my $promtool = `command -v promtool 2>/dev/null`;
        chomp $promtool;
        skip 'promtool is not installed', 1 unless $promtool;
        $t->write_file('metrics.txt', $text);
        my $out = `$promtool check metrics < ${\ $t->testdir}/metrics.txt 2>&1`;
        is($?, 0, "$when: promtool check metrics") or diag($out);
    }

    return ($doc, $text);
}

my %pids = map { $_ => 1 } split /\n/, $t->read_file('pids.log');
ok(keys %pids > 1, 'the requests were served by ' . keys(%pids)
    . ' workers');

my ($before) = check_counters('after the requests');

my $start = $before->{start_time};
ok(abs($start - time()) < 600, 'the start time is now, give or take');

# the histogram's sum is the calls' time, in seconds, and bounded
my $sum = $before->{rest_duration_seconds}{send_to_all}{sum};
ok($sum > 0 && $sum < 3 * $N * 2, "send_to_all's time: $sum s");

# --- a reload keeps the counters ---------------------------------------

$t->reload();

my ($after) = check_counters('after a reload');
is($after->{start_time}, $start, 'the start time survives the reload');

delete $_->{rest_duration_seconds} for $before, $after;
is_deeply($after, $before, 'every counter survives the reload');

is($t->get('/negotiate')->{status}, 200, 'one more token after the reload');
my $doc = $JSON->decode($t->get('/status?format=json')->{content});
is($doc->{tokens_issued}{key}{default}, $N + 1,
    'the new workers count on from there');

# --- the strict check can fail ------------------------------------------

my @bad = (
    [ 'a bad name',  "# TYPE 1x counter\n1x 1\n" ],
    [ 'a sample before its TYPE', "x_total 1\n# TYPE x_total counter\n" ],
    [ 'a series twice', "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n" ],
    [ 'a histogram without +Inf', "# TYPE h histogram\n"
        . "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n" ],
    [ 'an unknown escape', "# TYPE x counter\nx{a=\"\\t\"} 1\n" ],
);
my @missed = grep { my (undef, @e) = WebPubSub::Prometheus::check($_->[1]);
    !@e } @bad;
ok(!@missed, 'the strict check refuses broken text')
    or diag(join ', ', map { $_->[0] } @missed);

$t->done();
