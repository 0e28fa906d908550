// Times RTNeural's compile-time ModelT on the four small models of issue 13 exactly as
// `cargo run --release -p bench-compare -- small` times static-nn: one sample per call on 64
// rotating inputs, 20,000 calls per round, the median of 41 rounds of this thread's CPU time,
// ns per sample. Weights are uniform in [-0.5, 0.5). Build with build.sh.
#include <RTNeural/RTNeural.h>
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>
#include <time.h>
static double cpu_ns() { timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

using namespace RTNeural;
static std::mt19937 gen(7);
static std::uniform_real_distribution<float> dist(-0.5f, 0.5f);
static std::vector<std::vector<float>> mat(int r, int c) {
    std::vector<std::vector<float>> m(r, std::vector<float>(c));
    for (auto& row : m) for (auto& v : row) v = dist(gen);
    return m;
}
static std::vector<float> vec(int n) { std::vector<float> v(n); for (auto& x : v) x = dist(gen); return v; }
template <typename D> static void dense(D& d, int in, int out) {
    d.setWeights(mat(out, in)); auto b = vec(out); d.setBias(b.data());
}
template <typename M, int IN> static double time(M& model) {
    struct alignas(64) Row { float v[16]; };
    Row inputs[64];  // aligned and padded: xsimd loads whole aligned vectors
    for (auto& row : inputs) for (int k = 0; k < 16; ++k) row.v[k] = k < IN ? dist(gen) : 0.0f;
    constexpr int calls = 20000;
    std::vector<double> medians;
    volatile float sink = 0;
    for (int round = 0; round < 41; ++round) {
        double start = cpu_ns();
        float acc = 0;
        for (int i = 0; i < calls; ++i) acc += model.forward(inputs[i & 63].v);
        double stop = cpu_ns();
        sink = sink + acc;
        medians.push_back((stop - start) / calls);
    }
    std::sort(medians.begin(), medians.end());
    return medians[medians.size() / 2];
}
int main() {
    ModelT<float, 2, 1, DenseT<float, 2, 16>, TanhActivationT<float, 16>, DenseT<float, 16, 16>,
           TanhActivationT<float, 16>, DenseT<float, 16, 1>> w1;
    dense(w1.get<0>(), 2, 16); dense(w1.get<2>(), 16, 16); dense(w1.get<4>(), 16, 1);
    ModelT<float, 8, 4, DenseT<float, 8, 32>, ReLuActivationT<float, 32>, DenseT<float, 32, 32>,
           ReLuActivationT<float, 32>, DenseT<float, 32, 4>> w2;
    dense(w2.get<0>(), 8, 32); dense(w2.get<2>(), 32, 32); dense(w2.get<4>(), 32, 4);
    ModelT<float, 1, 1, GRULayerT<float, 1, 16>, DenseT<float, 16, 1>> gru;
    gru.get<0>().setWVals(mat(1, 48)); gru.get<0>().setUVals(mat(16, 48)); gru.get<0>().setBVals(mat(2, 48));
    dense(gru.get<1>(), 16, 1);
    ModelT<float, 1, 1, LSTMLayerT<float, 1, 16>, DenseT<float, 16, 1>> lstm;
    lstm.get<0>().setWVals(mat(1, 64)); lstm.get<0>().setUVals(mat(16, 64)); lstm.get<0>().setBVals(vec(64));
    dense(lstm.get<1>(), 16, 1);
    gru.reset(); lstm.reset();
    double t1 = time<decltype(w1), 2>(w1), t2 = time<decltype(w2), 8>(w2);
    double t3 = time<decltype(gru), 1>(gru), t4 = time<decltype(lstm), 1>(lstm);
    std::printf("W1 %.1f  W2 %.1f  GRU %.1f  LSTM %.1f\n", t1, t2, t3, t4);
}
