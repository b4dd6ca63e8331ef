#!/usr/bin/perl

# REST calls with a managed identity (IMDS, and App Service for the
# misrouting case) when the identity endpoint misbehaves, against the
# Entra ID stand-in (emulator/identity.js, failures through its /__control)
# and the emulator in Entra mode.  Whatever goes wrong, the caller gets a
# 502 (504 for a timeout) with a JSON reason, nginx logs one error line
# naming webpubsub_credential and the location, and nothing reaches the
# service: no call goes out without a valid token.  Then: recovery, the
# refresh ahead of expiry without a gap, an expired token never used, one
# fetch for eight workers, the token kept across a reload, and a fetch
# that a regex or rewrite would route elsewhere refused before anything
# (the App Service secret above all) is sent.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use POSIX ();
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use WebPubSub::Nginx;
use WebPubSub::Identity;

# the App Service variables would turn every managed_identity into one
delete @ENV{qw(IDENTITY_ENDPOINT IDENTITY_HEADER)};

my $JSON = JSON::PP->new->utf8->canonical;
my $RESOURCE = 'https://webpubsub.azure.com';

my $t = WebPubSub::Nginx->new();

# one user-assigned identity per scenario: each has a slot of its own,
# empty when the scenario starts
my @USERS = map { {
    client_id   => sprintf('c1e47%03d-0000-4000-8000-%012d', $_, $_),
    object_id   => sprintf('0b7ec%03d-0000-4000-8000-%012d', $_, $_),
    resource_id => '/subscriptions/00000000-0000-0000-0000-000000000000'
        . "/resourceGroups/rg/providers/Microsoft.ManagedIdentity"
        . "/userAssignedIdentities/failures$_",
} } 1 .. 16;
my %U = map { $_ => $USERS[$_ - 1]{client_id} } 1 .. 16;

my $idp = WebPubSub::Identity->start($t, port => 1, name => 'idp',
    env => { IDP_USER_IDENTITIES => $JSON->encode(\@USERS) });
my $wps = WebPubSub::Identity::start_emulator($t, idp => $idp, port => 2);

my ($P1, $P2) = ($t->port(1), $t->port(2));

$t->write_conf(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    webpubsub_hub chat;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint        http://127.0.0.1:$P2;
        webpubsub_credential      managed_identity;
        webpubsub_credential_pass /_identity;
        webpubsub_rest_pass       /_wps;

        location = /_identity {
            internal;
            proxy_pass            http://127.0.0.1:$P1;
            proxy_connect_timeout 1s;
            proxy_read_timeout    1s;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:$P2;
        }

        location = /send {
            webpubsub_rest send_to_all;
        }

        # scenarios that need a slot of their own, empty when they start,
        # and a hub of their own in the emulator's log

        location = /fail0 {
            webpubsub_hub        fail0;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{9};
            webpubsub_rest       send_to_all;
        }

        location = /fail1 {
            webpubsub_hub        fail1;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{10};
            webpubsub_rest       send_to_all;
        }

        location = /fail2 {
            webpubsub_hub        fail2;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{11};
            webpubsub_rest       send_to_all;
        }

        location = /fail3 {
            webpubsub_hub        fail3;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{12};
            webpubsub_rest       send_to_all;
        }

        location = /fail4 {
            webpubsub_hub        fail4;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{13};
            webpubsub_rest       send_to_all;
        }

        location = /fail5 {
            webpubsub_hub        fail5;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{14};
            webpubsub_rest       send_to_all;
        }

        location = /fail6 {
            webpubsub_hub        fail6;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{15};
            webpubsub_rest       send_to_all;
        }

        location = /refresh {
            webpubsub_hub        refresh;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{1};
            webpubsub_rest       send_to_all;
        }

        location = /expiring {
            webpubsub_hub        expiring;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{2};
            webpubsub_rest       send_to_all;
        }

        location = /short {
            webpubsub_hub        short;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{3};
            webpubsub_rest       send_to_all;
        }
    }

    # fetches that would not run where webpubsub_credential_pass says
    server {
        listen 127.0.0.1:%%PORT_3%%;

        webpubsub_hub             misrouted;
        webpubsub_endpoint        http://127.0.0.1:$P2;
        webpubsub_credential      managed_identity client_id=$U{4};
        webpubsub_credential_pass /_identity;
        webpubsub_rest_pass       /_wps;

        location /_identity {
            internal;
            proxy_pass http://127.0.0.1:$P1;
        }

        # a regex location wins over a prefix one without ^~
        location ~ ^/_identity {
            proxy_pass http://127.0.0.1:$P1;
        }

        location = /_identity_rw {
            internal;
            rewrite ^ /open_identity last;
            proxy_pass http://127.0.0.1:$P1;
        }

        location /open_identity {
            proxy_pass http://127.0.0.1:$P1/metadata/identity/oauth2/token;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:$P2;
        }

        location = /send {
            webpubsub_rest send_to_all;
        }

        location = /rewritten {
            webpubsub_endpoint        http://127.0.0.1:$P2;
            webpubsub_credential      managed_identity client_id=$U{5};
            webpubsub_credential_pass /_identity_rw;
            webpubsub_rest            send_to_all;
        }
    }
}
EOF

$t->run();
$t->plan(89);

###############################################################################
# Helpers

sub send_to {
    my ($path, %o) = @_;
    return $t->request('POST', $path, port => $o{port},
        timeout => $o{timeout} // 10,
        headers => { 'Content-Type' => 'text/plain' }, body => 'hello');
}

# requests the identity provider saw after seq $from, of one identity
# (undef: the system-assigned one)
sub fetches {
    my ($from, $client_id) = @_;
    return grep {
        $_->{kind} eq 'imds' && (defined $client_id
            ? ($_->{query}{client_id} // '') eq $client_id
            : !defined $_->{query}{client_id})
    } $idp->log($from);
}

sub idp_seq { $idp->state->{requests} }

# the emulator's REST log entries, of one hub or all
sub rest_calls {
    my ($hub) = @_;
    return grep { $_->{kind} eq 'rest'
        && (!defined $hub || $_->{url} =~ m{/hubs/\Q$hub\E/}) }
        $wps->log_entries;
}

# what nginx logged since the last mark
my %mark;
sub log_mark {
    my ($tx) = @_;
    $tx //= $t;
    $mark{"$tx"} = length $tx->error_log();
}
sub log_since {
    my ($tx) = @_;
    $tx //= $t;
    return substr($tx->error_log(), $mark{"$tx"} // 0);
}
sub module_errors {
    my ($text) = @_;
    return grep { /\[error\].*webpubsub:/ } split /\n/, $text;
}

# A REST call that succeeds: the calls nginx made before it have reached
# the emulator by the time it answers
sub barrier {
    my $r = send_to('/send');
    die "barrier: $r->{status} $r->{content}\n" unless $r->{status} == 202;
}

# A failure is remembered with the second it happened in (ngx_time()).
# Starting a case early in a second puts the request after it in the same
# second, where a request that came after the failure must not be failed
# by it.  Bounded: one second at most.
sub early_in_a_second {
    my $deadline = time() + 1.5;
    while (time() < $deadline) {
        my $frac = time() - int(time());
        return if $frac < 0.2;
        select(undef, undef, undef, ($frac > 0.98 ? 0.005 : 1 - $frac));
    }
}

sub json_reason {
    my ($r) = @_;
    my $b = eval { $JSON->decode($r->{content}) };
    return undef unless ($r->{headers}{'content-type'} // '')
        =~ m{^application/json} && ref $b eq 'HASH' && !ref $b->{error};
    return $b->{error};
}

sub iso_epoch {
    my ($iso) = @_;
    my ($y, $mo, $d, $h, $mi, $s) =
        $iso =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+(?:\.\d+)?)Z$/ or return 0;
    local $ENV{TZ} = 'UTC';
    POSIX::tzset();
    my $int = int $s;
    return POSIX::mktime($int, $mi, $h, $d, $mo - 1, $y - 1900)
        + ($s - $int);
}

# no alert, crit or sanitizer report in another nginx's logs
sub quiet_logs {
    my ($tx, $name) = @_;
    my @bad = grep { /\[(?:alert|crit|emerg)\]|Sanitizer|runtime error:/ }
        map { split /\n/, $tx->read_file($_) }
        grep { -f $tx->testdir . "/$_" } qw(error.log stderr.log);
    ok(!@bad, "$name: no alerts or sanitizer reports") or diag(join "\n", @bad);
}

###############################################################################
# A first call

{
    my $from = idp_seq();
    my $r = send_to('/send');
    is($r->{status}, 202, 'a REST call with a managed identity token: 202')
        or diag("$r->{status} $r->{content}");
    is(scalar fetches($from), 1, 'one IMDS request for it');
    my @calls = rest_calls('chat');
    is($calls[-1]{auth}, 'entra token valid',
        'the emulator saw a valid Entra token');
}

###############################################################################
# The identity endpoint fails: 502/504, one error line, nothing sent on

my $expired_body = do {
    my $m = $idp->mint({ exp_in => -600 });
    { access_token => $m->{token}, token_type => 'Bearer',
      expires_on => '' . (int(time()) - 600), resource => $RESOURCE };
};

my @failures = (
    [ 'identity endpoint down', { mode => 'down' }, 502 ],
    [ 'identity endpoint slower than proxy_read_timeout',
      { mode => 'slow', delay_ms => 3000 }, 504 ],
    [ 'identity endpoint answering 400', { mode => 'status', status => 400 },
      502 ],
    [ 'identity endpoint answering 500', { mode => 'status', status => 500 },
      502 ],
    [ 'identity endpoint answering garbage', { mode => 'garbage' }, 502 ],
    [ 'identity endpoint answering JSON without access_token',
      { mode => 'status', status => 200,
        body => { token_type => 'Bearer', expires_in => '3600',
                  resource => $RESOURCE } }, 502 ],
    [ 'identity endpoint answering an expired token',
      { mode => 'status', status => 200, body => $expired_body }, 502 ],
);

for my $i (0 .. $#failures) {
    my ($name, $control, $want) = @{ $failures[$i] };
    my $cid = $U{9 + $i};

    log_mark();
    $idp->control({ %$control, only => ['imds'] });
    my $from = idp_seq();
    early_in_a_second();
    my $r = send_to("/fail$i");
    $idp->control({ mode => 'ok' });

    is($r->{status}, $want, "$name: the caller gets $want");
    like(json_reason($r) // '', qr/^identity endpoint \S/,
        "$name: with a JSON reason") or diag($r->{content});
    my @errors = module_errors(log_since());
    ok(@errors == 1 && $errors[0] =~ /webpubsub_credential in \S+:\d+/
        && $errors[0] =~ m{"?/_identity"?},
        "$name: one error line naming webpubsub_credential and the location")
        or diag(join "\n", @errors);
    is(scalar fetches($from, $cid), 1, "$name: one identity request was made");
    barrier();
    is(scalar rest_calls("fail$i"), 0, "$name: the service received no call");

    # recovery: the next request fetches again
    $from = idp_seq();
    $r = send_to("/fail$i");
    is($r->{status}, 202, "$name: the next request succeeds")
        or diag("$r->{status} $r->{content}");
    is(scalar fetches($from, $cid), 1,
        "$name: ... after one new identity request");
}

###############################################################################
# Refresh ahead of expiry: no gap, one new fetch

{
    # a managed identity token of 305 s is renewed 300 s before it
    # expires: after 5 s
    $idp->control({ lifetime => 305 });
    my $from = idp_seq();
    my $r = send_to('/refresh');
    is($r->{status}, 202, 'refresh: the first call');
    $idp->control({ lifetime => 3600 });

    my ($first) = fetches($from, $U{1});
    my (@statuses, $second, $after);
    my $deadline = time() + 15;
    while (time() < $deadline) {
        push @statuses, send_to('/refresh')->{status};
        my @f = fetches($from, $U{1});
        if (@f >= 2) {
            $second //= $f[1];
            # some more calls with the new token, well before its refresh
            last if ++$after > 10;
        }
        select(undef, undef, undef, 0.05);
    }
    ok($second, 'refresh: a new identity request came while calls went on');
    my @bad = grep { $_ != 202 } @statuses;
    ok(@statuses > 20 && !@bad,
        'refresh: every call across the refresh succeeded (' . @statuses
        . ' calls)') or diag("statuses: @statuses");
    is(scalar fetches($from, $U{1}), 2,
        'refresh: exactly one new identity request for it');
    if ($first && $second) {
        my $gap = iso_epoch($second->{time}) - iso_epoch($first->{time});
        ok($gap >= 4 && $gap < 8,
            "refresh: 300 s before the expiry, i.e. ${gap} s after the first");
    } else {
        fail('refresh: its time');
    }
}

###############################################################################
# An expired token is never used

{
    # a 15 s token is due at once (under 300 s) and usable until 10 s
    # before its expiry; the identity endpoint then goes down
    $idp->control({ lifetime => 15 });
    my $from = idp_seq();
    # (bounded: a module that fetches again and again never answers)
    my $r = send_to('/expiring', timeout => 4);
    $idp->control({ lifetime => 3600, mode => 'down', only => ['imds'] });
    is($r->{status}, 202, 'expiring: the first call');

    my ($issued) = fetches($from, $U{2});
    my $exp = $issued && $issued->{issued} ? $issued->{issued}{claims}{exp}
        : time() + 15;

    my (@before, @after);
    my $deadline = $exp + 2;
    while (time() < $deadline) {
        my $s = send_to('/expiring')->{status};
        push @{ time() < $exp - 12 ? \@before : \@after }, $s;
        select(undef, undef, undef, 0.1);
    }
    $idp->control({ mode => 'ok' });

    ok(@before && !grep({ $_ != 202 } @before),
        'expiring: while the token is valid, calls succeed (the fetches '
        . 'fail)') or diag("@before");
    my @late = grep { $_ != 502 } @after[-5 .. -1];
    ok(@after >= 5 && !@late, 'expiring: near and past its expiry: 502')
        or diag("@after");
    my @used = map { iso_epoch($_->{time}) } rest_calls('expiring');
    my @expired = grep { $_ >= $exp - 9 } @used;
    ok(@used && !@expired, 'expiring: the service saw no call within 9 s '
        . 'of the expiry, nor after it') or diag("exp $exp, calls @used");
    ok(!grep({ $_->{auth} ne 'entra token valid' } rest_calls('expiring')),
        'expiring: every call the service saw had a valid token');
}

###############################################################################
# A token valid for less than the margin

{
    $idp->control({ lifetime => 5 });
    my $from = idp_seq();
    my $started = time();
    my $r = send_to('/short', timeout => 4);
    my $took = time() - $started;
    $idp->control({ lifetime => 3600 });
    my @f = fetches($from, $U{3});
    ok($r->{status} == 502 && @f <= 2 && $took < 3,
        'a token that expires within the margin: 502 at once, no fetch loop')
        or diag("status $r->{status} after ${took}s, " . scalar(@f)
            . ' identity requests');
    is(scalar rest_calls('short'), 0,
        'a token that expires within the margin: nothing sent');
}

###############################################################################
# Misrouted fetches: refused before anything is sent

{
    my $from = idp_seq();
    log_mark();
    my $r = send_to('/send', port => $t->port(3));
    is($r->{status}, 500, 'a regex location catches the fetch: 500');
    my @errors = module_errors(log_since());
    ok(@errors == 1 && $errors[0] =~ /regex location/
        && $errors[0] =~ /webpubsub_credential in \S+:\d+/
        && $errors[0] =~ m{"/_identity"},
        'a regex location: one error line naming the credential, the '
        . 'location and the fix') or diag(join "\n", @errors);

    log_mark();
    $r = send_to('/rewritten', port => $t->port(3));
    is($r->{status}, 500, 'a rewrite sends the fetch elsewhere: 500');
    @errors = module_errors(log_since());
    ok(@errors == 1 && $errors[0] =~ /another location/
        && $errors[0] =~ m{"/_identity_rw"},
        'a rewrite: one error line') or diag(join "\n", @errors);

    is(scalar $idp->log($from), 0,
        'misrouted: the identity provider received nothing');
    barrier();
    is(scalar rest_calls('misrouted'), 0,
        'misrouted: the service received nothing');
}

###############################################################################
# Nothing went out unauthenticated, in all of the above

barrier();
{
    my @bad = grep { $_->{auth} ne 'entra token valid' } rest_calls();
    ok(!@bad, 'the service never saw a call without a valid Entra token')
        or diag(scalar(@bad) . ' calls, e.g. ' . $JSON->encode($bad[0]));
}

###############################################################################
# Eight workers, one fetch

{
    my $t8 = WebPubSub::Nginx->new();
    $t8->write_conf(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    log_format pids '\$pid \$status';
    access_log %%TESTDIR%%/pids.log pids;

    webpubsub_rest_pass       /_wps;
    webpubsub_credential_pass /_identity;

    server {
        listen 127.0.0.1:%%PORT_0%% reuseport;

        location = /_identity {
            internal;
            proxy_pass http://127.0.0.1:$P1;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:$P2;
        }

        location = /cold {
            webpubsub_hub        cold;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{6};
            webpubsub_rest       send_to_all;
        }

        location = /slow {
            webpubsub_hub        slow;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{7};
            webpubsub_rest       send_to_all;
        }
    }
}
EOF
    my $conf = $t8->read_file('nginx.conf');
    $conf =~ s/worker_processes 1;/worker_processes 8;/ or die "workers\n";
    $t8->write_file('nginx.conf', $conf);
    $t8->run();

    for my $c ([ 'cold', undef ], [ 'slow', 1000 ]) {
        my ($path, $delay) = @$c;
        my $cid = $path eq 'cold' ? $U{6} : $U{7};
        $idp->control({ mode => 'slow', delay_ms => $delay, only => ['imds'] })
            if $delay;
        my $from = idp_seq();
        my $pids = length $t8->_slurp_if_exists('pids.log');
        my @statuses = burst($t8->port(0), "/$path", 64, 20);
        $idp->control({ mode => 'ok' });
        my $name = "8 workers, $path" . ($delay ? " (identity endpoint "
            . "${delay} ms)" : '');
        my %count;
        $count{$_}++ for @statuses;
        is($count{202} // 0, 64, "$name: all 64 concurrent calls got 202")
            or diag($JSON->encode(\%count));
        is(scalar fetches($from, $cid), 1, "$name: one identity request");
        my %served = map { (split ' ')[0] => 1 }
            split /\n/, substr($t8->_slurp_if_exists('pids.log'), $pids);
        ok(keys %served > 1, "$name: served by " . keys(%served)
            . ' workers');
    }

    $t8->stop(checks => 0);
    quiet_logs($t8, '8 workers');
}

###############################################################################
# App Service: the X-IDENTITY-HEADER goes to the named location only

{
    my $ta = WebPubSub::Nginx->new();
    $ta->write_conf(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    webpubsub_rest_pass       /_wps;
    webpubsub_credential_pass /_identity;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location = /_identity {
            internal;
            proxy_pass http://127.0.0.1:$P1;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:$P2;
        }

        location = /send {
            webpubsub_hub        appservice;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity;
            webpubsub_rest       send_to_all;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;

        location /_identity {
            internal;
            proxy_pass http://127.0.0.1:$P1;
        }

        location ~ ^/_identity {
            proxy_pass http://127.0.0.1:$P1;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:$P2;
        }

        location = /send {
            webpubsub_hub        appservice;
            webpubsub_endpoint   http://127.0.0.1:$P2;
            webpubsub_credential managed_identity client_id=$U{8};
            webpubsub_rest       send_to_all;
        }
    }
}
EOF
    my $started = eval {
        local $ENV{IDENTITY_ENDPOINT} = $idp->appservice_endpoint;
        local $ENV{IDENTITY_HEADER} = $idp->identity_header;
        $ta->run();
        1;
    };
    ok($started, 'App Service: nginx starts with IDENTITY_ENDPOINT and '
        . 'IDENTITY_HEADER set') or diag($@);

    SKIP: {
        skip 'App Service: nginx did not start', 5 unless $started;

        my $from = idp_seq();
        my $r = $ta->request('POST', '/send', timeout => 10,
            headers => { 'Content-Type' => 'text/plain' }, body => 'hi');
        is($r->{status}, 202, 'App Service: a REST call');
        my @f = $idp->log($from);
        ok(@f == 1 && $f[0]{kind} eq 'appservice'
            && $f[0]{headers}{'x-identity-header'}
               eq WebPubSub::Identity::fingerprint($idp->identity_header),
            'App Service: one request, with X-IDENTITY-HEADER')
            or diag($JSON->encode(\@f));

        $from = idp_seq();
        log_mark($ta);
        $r = $ta->request('POST', '/send', port => $ta->port(1), timeout => 10,
            headers => { 'Content-Type' => 'text/plain' }, body => 'hi');
        is($r->{status}, 500, 'App Service, a regex location catches it: 500');
        my @errors = module_errors(log_since($ta));
        ok(@errors == 1 && $errors[0] =~ /regex location/,
            'App Service, misrouted: one error line')
            or diag(join "\n", @errors);
        is(scalar $idp->log($from), 0,
            'App Service, misrouted: the identity provider received nothing, '
            . 'the X-IDENTITY-HEADER went nowhere');

    }

    $ta->stop(checks => 0);
    quiet_logs($ta, 'App Service');
}


###############################################################################
# The token survives reloads (the shared zone is kept)

for my $n (1 .. 2) {
    my $from = idp_seq();
    $t->reload();
    my $r = send_to('/send');
    is($r->{status}, 202, "after reload $n: 202");
    is(scalar fetches($from), 0,
        "after reload $n: no new identity request");
}

$t->done();

###############################################################################

# $n concurrent POSTs on connections of their own: their statuses
sub burst {
    my ($port, $path, $n, $secs) = @_;
    my $deadline = time() + $secs;
    my $req = "POST $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: text/plain\r\nContent-Length: 2\r\n"
        . "Connection: close\r\n\r\nhi";
    my (@socks, %buf);
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => '127.0.0.1',
            PeerPort => $port, Timeout => 5) or die "connect: $!\n";
        push @socks, $s;
    }
    # every request is sent before any answer is read
    for my $s (@socks) {
        syswrite($s, $req) == length $req or die "write: $!\n";
    }
    my $sel = IO::Select->new(@socks);
    while ($sel->count && time() < $deadline) {
        for my $s ($sel->can_read($deadline - time())) {
            my $got = sysread($s, my $b, 65536);
            if ($got) {
                $buf{fileno $s} .= $b;
            } else {
                $sel->remove($s);
            }
        }
    }
    my @statuses = map {
        ($buf{fileno $_} // '') =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : 'none'
    } @socks;
    close $_ for @socks;
    return @statuses;
}
