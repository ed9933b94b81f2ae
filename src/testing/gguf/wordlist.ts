/**
 * Words whose pieces join the synthetic vocabulary, so text tokenizes at a realistic 3-5 characters per token
 * (a trained tokenizer of 32k-200k pieces has all of these) instead of one byte per token. Frozen here,
 * not read from data files, so a model file is the same whatever the prompts say.
 */
export const WORDS: readonly string[] = `
the role actor id deploy is action production and trust team high risk admin context decision
situation of description to write reliability an user resource integrity competence with type
in for change tensor attestation require that or text read developer answer true it threshold
recent identity deploys request reasoningelements expected difficulty critical by policy medium
config classification staging bot member history environment deny coherence on not findings rules
risklevel does check are pattern may false declining verification low details automation timing
engine ci allow you unusual untrusted only auto reasoning permission never meets exemplary
membership has deployer before target permit json hours env case resources push public prod
impact established borderline trustband tier signals severity rolepermitsactionclass roleknown
riskfloor patterns outside level its example effectiveclass detail criticaltarget configuration
changes audit actionclass works sufficient other nothing label far edit class access warn trend
timestamp time this than rule release policyreferences one non investigate hard emergency edge
deviation code but below as above rollback requires repo releases references platform metrics
merge instructions format data control classes checkout automatically automated whose when
what update under two trustcheck three systems second rollbacks rolecheck permits means lower
local live insufficient infrastructure incident from free four every else easy delete default
calls at allowing after admins words system someone so service night new last five during docs
commit build approval years would worked which whether was trusted targets snake small should
set secrets secret search scenarios runner reviewed required requester removing record reaches
punish pull proceeds person performance perform own note no needs make lowest legitimate just
into interpreter inactive if human here failures examples everything developers deploying
denying decide days customer credential create contractor confirms commits comment can be
baserisk authoritative authentication actions yaml written writes working without who while
vs view unauthorized typically triggered sudden seed schema roles retention response remove
really readme rather plain per pending payment output order must merges matches log list key
incidents hardbound grace framework form flag fix first failure exactly documentation distinction
decisions day database credentials counts checks built between baseline back applied anything
any agent advisor administration additional about all also because been being both could each
few go good how however like many more most much need now off over same see some such their
them then there these they those through too use used very way well were where why will yes
your able again against already always another around available based become began begin best
better big call came cannot certain clear close come common consider current different done down
early end enough even ever fact find follow found full get give given great group hand help
important include information keep kind know large later least less let line little long look
made main major might move near next number often once open part people place point possible
present problem provide put question quite reason result right run say seem several show side
since state still sure take tell thing think though thus together took toward turn until upon
usually value want within word work world year yet
`
  .trim()
  .split(/\s+/);
