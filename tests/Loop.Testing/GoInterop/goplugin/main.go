// A Go LOOP plugin for Loop's interop tests, built on hashicorp/go-plugin (Debian's 1.0.1).
// It serves the sample Echo service and prefixes replies with "go:".
package main

import (
	"context"
	"sync/atomic"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	echo "loopinterop/echo"
)

type echoServer struct {
	echo.UnimplementedEchoServer
	calls int64
}

func (s *echoServer) Say(ctx context.Context, req *echo.EchoRequest) (*echo.EchoReply, error) {
	n := atomic.AddInt64(&s.calls, 1)
	return &echo.EchoReply{Text: "go:" + req.Text, Calls: n}, nil
}

type echoPlugin struct{ plugin.Plugin }

func (p *echoPlugin) GRPCServer(broker *plugin.GRPCBroker, server *grpc.Server) error {
	echo.RegisterEchoServer(server, &echoServer{})
	return nil
}

func (p *echoPlugin) GRPCClient(ctx context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return echo.NewEchoClient(conn), nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "LOOP_SAMPLE_PLUGIN",
			MagicCookieValue: "a3d5e9c1-loop-sample",
		},
		Plugins:    map[string]plugin.Plugin{"echo": &echoPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
