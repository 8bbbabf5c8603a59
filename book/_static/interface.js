/* Consertos pequenos na interface do site (o Jupyter Book inclui sozinho todo .js de book/_static).
 *
 * 1. Botões ☰ (navegação) e ☷ (conteúdo da página). O sphinx-book-theme 1.3.0 exige o
 *    pydata-sphinx-theme 0.17.1, que põe um segundo botão com a classe .primary-toggle (e outro
 *    .secondary-toggle) no cabeçalho e só liga o PRIMEIRO de cada classe: o botão visível, o do
 *    artigo, não faz nada. Bug conhecido: pydata/pydata-sphinx-theme#2451. Aqui, um clique num
 *    botão não ligado repassa o clique ao primeiro, que tem os comportamentos dos dois temas
 *    (no celular abre a gaveta; na tela larga o sphinx-book-theme recolhe a barra lateral).
 *    Remover quando o sphinx-book-theme aceitar um pydata-sphinx-theme com a correção.
 *
 * 2. "Got invalid theme mode: . Resetting to auto." na primeira visita: o script do <head> do
 *    pydata-sphinx-theme grava "" em data-mode quando o navegador ainda não guardou um modo.
 *    Este arquivo roda antes do script do tema (que tem defer) e põe o modo padrão.
 *
 * 3. O sphinx-copybutton não tem textos em português: o português entra na tabela `messages`
 *    dele (variáveis globais do copybutton.js, que roda antes deste arquivo); o título do ícone,
 *    montado antes, é trocado depois que os botões são criados.
 *
 * 4. Dois rótulos para leitores de tela fixos em inglês em modelos do sphinx-book-theme ("Main",
 *    "Page") que não valem uma cópia do modelo inteiro em book/_templates.
 */
(function () {
  "use strict";

  var raiz = document.documentElement;
  if (!raiz.dataset.mode) {
    raiz.dataset.mode = raiz.dataset.defaultMode || "auto";
  }

  function repassarCliquesAoPrimeiro(seletor) {
    var botoes = document.querySelectorAll(seletor);
    for (var i = 1; i < botoes.length; i++) {
      botoes[i].addEventListener("click", function (evento) {
        evento.preventDefault();
        evento.stopPropagation();
        botoes[0].click();
      });
    }
  }

  var COPIAR = {
    "Copy": "Copiar",
    "Copy to clipboard": "Copiar",
    "Copied!": "Copiado!",
    "Failed to copy": "Não foi possível copiar",
  };

  if (typeof messages === "object" && typeof locale === "string") {
    messages["pt-BR"] = {
      copy: COPIAR["Copy"],
      copy_to_clipboard: COPIAR["Copy to clipboard"],
      copy_success: COPIAR["Copied!"],
      copy_failure: COPIAR["Failed to copy"],
    };
    if (raiz.lang === "pt-BR") locale = "pt-BR";
  }

  function traduzirBotoesDeCopiar() {
    document.querySelectorAll("button.copybtn").forEach(function (botao) {
      var dica = botao.getAttribute("data-tooltip");
      if (COPIAR[dica]) botao.setAttribute("data-tooltip", COPIAR[dica]);
      botao.querySelectorAll("title").forEach(function (titulo) {
        if (COPIAR[titulo.textContent]) titulo.textContent = COPIAR[titulo.textContent];
      });
    });
  }

  var ROTULOS = {
    "nav.bd-docs-nav[aria-label='Main']": "Sumário do livro",
    "#jb-print-toc nav[aria-label='Page']": "Conteúdo da página",
  };

  function traduzirRotulos() {
    Object.keys(ROTULOS).forEach(function (seletor) {
      document.querySelectorAll(seletor).forEach(function (elemento) {
        elemento.setAttribute("aria-label", ROTULOS[seletor]);
      });
    });
  }

  function iniciar() {
    traduzirRotulos();
    repassarCliquesAoPrimeiro(".primary-toggle");
    repassarCliquesAoPrimeiro(".secondary-toggle");
    traduzirBotoesDeCopiar();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", iniciar);
  } else {
    iniciar();
  }
})();
