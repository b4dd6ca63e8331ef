package WebPubSub::Identity;

# Perl side of the Microsoft Entra ID stand-ins, for .t files: the identity
# provider (emulator/identity.js: its header comment documents endpoints,
# environment and the test API), the emulator in Entra mode
# (emulator/service.js, WPS_AUTH=entra), test-made certificates, and the
# @azure/identity oracle (t/fixtures/identity_oracle.js).
#
#   use WebPubSub::Identity;
#
#   my $tls = WebPubSub::Identity::server_cert($t);
#       # { cert, key }: a self-signed certificate (no CA) for 127.0.0.1
#       # and localhost in the test directory; cert is also the CA file
#       # node is told to trust (NODE_EXTRA_CA_CERTS)
#   my $cc = WebPubSub::Identity::client_cert($t, 'client');
#       # { cert, key, pem (cert then key, for ClientCertificateCredential),
#       #   x5t_s256, x5t } for the certificate flow (IDP_CLIENT_CERT)
#
#   my $idp = WebPubSub::Identity->start($t, port => 5, tls => $tls,
#       name => 'idp', env => { IDP_CLIENT_SECRET => 's', ... });
#       # a daemon of $t; ready when it printed its line (20 s at most);
#       # IDP_IDENTITY_HEADER defaults to a fixed test value, IDP_LOG to
#       # <name>.jsonl in the test directory
#   $idp->origin  ->port  ->tenant  ->authority (origin/tenant)
#   $idp->token_endpoint  ->jwks_uri  ->openid_configuration
#   $idp->imds_endpoint  ->appservice_endpoint  ->identity_header
#   $idp->client_id  ->client_oid  ->system_identity  ->user_identities
#   $idp->ca_file                     the TLS certificate (undef: plain)
#   $idp->control({ mode => 'status', status => 503, count => 1 })
#                                     the state after it (GET /__control)
#   $idp->state                       GET /__control
#   $idp->log($from)                  entries after the first $from
#   $idp->mint({ aud => 'api://app', exp_in => -600 })
#                                     { token, header, claims }
#   $idp->jwks                        the published keys
#   $idp->stop                        TERM, reaped (also done by $t->stop)
#
#   my $wps = WebPubSub::Identity::start_emulator($t, idp => $idp,
#       port => 6, tls => $tls, name => 'emulator',
#       env => { WPS_EVENT_HANDLER => ..., WPS_WEBHOOK_AUDIENCE => ... });
#       # emulator/service.js with WPS_AUTH=entra, WPS_IDP = $idp->origin,
#       # WPS_LOG <name>.jsonl; ready when it printed its line
#   $wps->origin  ->port  ->endpoint  ->log_entries  ->stop
#
#   my $r = WebPubSub::Identity::oracle($t, { credential => 'imds', ... },
#                                       ca => $tls->{cert});
#       # one run of t/fixtures/identity_oracle.js (its header comment
#       # lists the case fields), decoded; 60 s at most
#   my $v = WebPubSub::Identity::verify_token($t, $token, jwks_uri => ..,
#                                  audience => .., ca => ..);
#       # jsonwebtoken's verdict on an RS256 token against a JWKS:
#       # { verified (1 or the message), header, claims }
#   WebPubSub::Identity::fingerprint($secret)
#       # "sha256:<hex>", as the identity provider logs secrets
#
# HTTPS requests from Perl go through the curl command (no Perl TLS
# module is installed); openssl makes the certificates.

use strict;
use warnings;

use FindBin;
use JSON::PP;
use POSIX ();
use Digest::SHA qw(sha256_hex sha256 sha1);
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(sleep time);

my $JSON = JSON::PP->new->utf8->canonical;
my $ROOT = "$FindBin::Bin/..";

use constant READY_SECS => 20;
use constant IDENTITY_HEADER => 'identity-header-of-the-tests';

sub node { $ENV{TEST_NODE} // 'node' }

sub _slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $text = <$fh>;
    return $text // '';
}

sub _b64url {
    my $b = MIME::Base64::encode_base64($_[0], '');
    $b =~ tr{+/}{-_};
    $b =~ s/=+\z//;
    return $b;
}

sub fingerprint { 'sha256:' . sha256_hex($_[0]) }

sub _run {
    my (@cmd) = @_;
    my $pid = fork() // die "fork: $!\n";
    if ($pid == 0) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec(@cmd) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "@cmd[0 .. 1] failed: $?\n" if $?;
}

# A self-signed certificate for 127.0.0.1 and localhost
sub server_cert {
    my ($t, $name) = @_;
    $name //= 'tls';
    my $dir = $t->testdir;
    my %f = (cert => "$dir/$name.crt", key => "$dir/$name.key");
    _run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', $f{key}, '-out', $f{cert}, '-days', '2',
        '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
    return \%f;
}

# A client certificate and key; pem holds both, as @azure/identity wants
sub client_cert {
    my ($t, $name) = @_;
    $name //= 'client';
    my $dir = $t->testdir;
    my %f = (cert => "$dir/$name.crt", key => "$dir/$name.key",
             pem => "$dir/$name.pem");
    _run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
        '-keyout', $f{key}, '-out', $f{cert}, '-days', '2',
        '-subj', "/CN=$name");
    open my $fh, '>:raw', $f{pem} or die "$f{pem}: $!\n";
    print {$fh} _slurp($f{cert}), _slurp($f{key});
    close $fh;
    my ($b64) = _slurp($f{cert})
        =~ /-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----/s;
    my $der = decode_base64($b64);
    $f{x5t_s256} = _b64url(sha256($der));
    $f{x5t} = _b64url(sha1($der));
    return \%f;
}

# Waits until $file holds a line matching $re, or the process is gone, or
# READY_SECS pass.
sub _wait_line {
    my ($pid, $file, $re, $what) = @_;
    my $deadline = time() + READY_SECS;
    while (1) {
        my $text = _slurp($file);
        return $1 if $text =~ $re;
        die "$what did not start:\n$text\n"
            if time() > $deadline || waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep(0.05);
    }
}

sub _daemon {
    my ($t, $script, $env, $out) = @_;
    return $t->run_daemon(sub {
        @ENV{keys %$env} = values %$env;
        open(STDOUT, '>>', $out) or die "$out: $!";
        open(STDERR, '>&', \*STDOUT) or die "dup: $!";
        exec(node(), $script) or die "exec node: $!";
    });
}

sub _stop_daemon {
    my ($t, $pid) = @_;
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time() + 5;
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (time() > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            last;
        }
        sleep(0.02);
    }
    # the harness would signal it again at the end: it is gone
    $t->{daemons} = [ grep { $_ != $pid } @{ $t->{daemons} // [] } ];
}

sub start {
    my ($class, $t, %o) = @_;
    my $port = $t->port($o{port} // 1);
    my $dir = $t->testdir;
    my $name = $o{name} // 'idp';
    my $tls = $o{tls};
    my $scheme = $tls ? 'https' : 'http';
    my %env = (
        IDP_PORT            => $port,
        IDP_IDENTITY_HEADER => IDENTITY_HEADER,
        IDP_LOG             => "$dir/$name.jsonl",
        IDP_LIFETIME        => $o{lifetime} // 600,
        ($tls ? (IDP_TLS_CERT => $tls->{cert}, IDP_TLS_KEY => $tls->{key})
              : ()),
        %{ $o{env} // {} },
    );
    my $self = bless {
        t      => $t,
        port   => $port,
        origin => "$scheme://127.0.0.1:$port",
        ca     => $tls ? $tls->{cert} : undef,
        env    => \%env,
        out    => "$dir/$name.out",
    }, $class;
    $self->{pid} = _daemon($t, "$ROOT/emulator/identity.js", \%env,
        $self->{out});
    _wait_line($self->{pid}, $self->{out},
        qr/^identity provider on (\S+)$/m, 'the identity provider');
    my $state = $self->state;
    $self->{tenant} = $state->{tenant};
    return $self;
}

sub port   { $_[0]{port} }
sub origin { $_[0]{origin} }
sub ca_file { $_[0]{ca} }
sub tenant { $_[0]{tenant} }
sub authority { "$_[0]{origin}/$_[0]{tenant}" }
sub token_endpoint { $_[0]->authority . '/oauth2/v2.0/token' }
sub jwks_uri { $_[0]->authority . '/discovery/v2.0/keys' }
sub openid_configuration {
    $_[0]->authority . '/v2.0/.well-known/openid-configuration'
}
sub imds_endpoint { "$_[0]{origin}/metadata/identity/oauth2/token" }
sub appservice_endpoint { "$_[0]{origin}/msi/token" }
sub identity_header { $_[0]{env}{IDP_IDENTITY_HEADER} }
sub log_file { $_[0]{env}{IDP_LOG} }

# identity.js's built-in identities unless the environment gave others
sub _defaults {
    my ($self) = @_;
    return $self->{defaults} //= do {
        my $script = 'const d = require(process.argv[1]).DEFAULTS;'
            . 'console.log(JSON.stringify(d));';
        my $pid = open(my $fh, '-|') // die "fork: $!\n";
        if ($pid == 0) {
            exec(node(), '-e', $script, "$ROOT/emulator/identity.js")
                or POSIX::_exit(127);
        }
        local $/;
        my $text = <$fh>;
        close $fh;
        $JSON->decode($text);
    };
}

sub client_id {
    $_[0]{env}{IDP_CLIENT_ID} // $_[0]->_defaults->{clientId}
}
sub client_oid {
    $_[0]{env}{IDP_CLIENT_OID} // $_[0]->_defaults->{clientOid}
}
sub system_identity {
    my ($self) = @_;
    my $v = $self->{env}{IDP_SYSTEM_IDENTITY};
    return undef if defined $v && $v eq 'none';
    return defined $v ? $JSON->decode($v) : $self->_defaults->{system};
}
sub user_identities {
    my ($self) = @_;
    my $v = $self->{env}{IDP_USER_IDENTITIES};
    return defined $v ? $JSON->decode($v) : $self->_defaults->{users};
}

# One test API request through curl: the decoded JSON answer
sub _api {
    my ($self, $method, $path, $body) = @_;
    my @cmd = ('curl', '-sS', '-m', '10', '-X', $method,
        '-w', '\n%{http_code}');
    push @cmd, '--cacert', $self->{ca} if $self->{ca};
    if (defined $body) {
        push @cmd, '-H', 'Content-Type: application/json',
            '--data-binary', $JSON->encode($body);
    }
    push @cmd, "$self->{origin}$path";
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        exec(@cmd) or POSIX::_exit(127);
    }
    local $/;
    my $text = <$fh> // '';
    close $fh;
    my ($content, $status) = $text =~ /\A(.*)\n(\d{3})\z/s
        or die "identity provider $method $path: no answer (curl status "
            . ($? >> 8) . "); its output:\n" . _slurp($self->{out}) . "\n";
    die "identity provider $method $path: $status $content\n"
        unless $status == 200;
    return $JSON->decode($content);
}

sub state   { $_[0]->_api('GET', '/__control') }
sub control { $_[0]->_api('POST', '/__control', $_[1]) }
sub mint    { $_[0]->_api('POST', '/__token', $_[1] // {}) }
sub jwks    { $_[0]->_api('GET', "/$_[0]{tenant}/discovery/v2.0/keys") }

sub log {
    my ($self, $from) = @_;
    return @{ $self->_api('GET', '/__log?from=' . ($from // 0)) };
}

sub stop {
    my ($self) = @_;
    _stop_daemon($self->{t}, delete $self->{pid});
}

package WebPubSub::Identity::Emulator;

sub origin   { $_[0]{origin} }
sub port     { $_[0]{port} }
sub endpoint { $_[0]{endpoint} }
sub log_file { $_[0]{log} }

sub log_entries {
    my ($self) = @_;
    open my $fh, '<:raw', $self->{log} or return ();
    return map { $JSON->decode($_) } grep { /\S/ } <$fh>;
}

sub stop {
    my ($self) = @_;
    WebPubSub::Identity::_stop_daemon($self->{t}, delete $self->{pid});
}

package WebPubSub::Identity;

sub start_emulator {
    my ($t, %o) = @_;
    my $idp = $o{idp} or die "start_emulator needs idp\n";
    my $port = $t->port($o{port} // 2);
    my $dir = $t->testdir;
    my $name = $o{name} // 'emulator';
    my $tls = $o{tls};
    my $origin = ($tls ? 'https' : 'http') . "://127.0.0.1:$port";
    my %env = (
        WPS_PORT     => $port,
        WPS_AUTH     => 'entra',
        WPS_IDP      => $idp->origin,
        WPS_IDP_TENANT => $idp->tenant,
        WPS_KEYS     => '',
        WPS_LOG      => "$dir/$name.jsonl",
        WPS_LIFETIME => $o{lifetime} // 600,
        ($idp->ca_file ? (NODE_EXTRA_CA_CERTS => $idp->ca_file) : ()),
        ($tls ? (WPS_TLS_CERT => $tls->{cert}, WPS_TLS_KEY => $tls->{key})
              : ()),
        %{ $o{env} // {} },
    );
    my $self = bless {
        t => $t, port => $port, origin => $origin,
        endpoint => $env{WPS_ENDPOINT} // $origin, log => $env{WPS_LOG},
    }, 'WebPubSub::Identity::Emulator';
    my $out = "$dir/$name.out";
    $self->{pid} = _daemon($t, "$ROOT/emulator/service.js", \%env, $out);
    _wait_line($self->{pid}, $out, qr/^web pubsub local service on (\S+)$/m,
        'the emulator');
    return $self;
}

# One node run with a JSON case; the decoded output line
sub _node_json {
    my ($t, $script, $case, $ca) = @_;
    my $dir = $t->testdir;
    local $ENV{NODE_EXTRA_CA_CERTS} = $ca if $ca;
    my $pid = open(my $out, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open(STDERR, '>>', "$dir/identity_oracle.err");
        exec(node(), $script, $JSON->encode($case)) or POSIX::_exit(127);
    }
    my $line;
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(60);
        local $/;
        $line = <$out>;
        alarm(0);
        1;
    };
    alarm(0);
    kill 'KILL', $pid unless $ok;
    close $out;
    die "the identity oracle failed (" . ($@ || "status $?") . "):\n"
        . _slurp("$dir/identity_oracle.err")
        unless $ok && defined $line && $line =~ /\S/;
    return $JSON->decode($line);
}

sub oracle {
    my ($t, $case, %o) = @_;
    return _node_json($t, "$FindBin::Bin/fixtures/identity_oracle.js",
        $case, $o{ca});
}

sub verify_token {
    my ($t, $token, %o) = @_;
    my $file = $t->testdir . '/verify-' . ++$t->{identity_verify} . '.jwt';
    open my $fh, '>:raw', $file or die "$file: $!\n";
    print {$fh} $token;
    close $fh;
    return _node_json($t, "$FindBin::Bin/fixtures/identity_oracle.js",
        { verify => { token_file => $file, jwks_uri => $o{jwks_uri},
                      audience => $o{audience}, issuer => $o{issuer} } },
        $o{ca});
}

1;
